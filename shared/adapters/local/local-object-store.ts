/**
 * Local mode's object store (issue #6): bucket `b`, key `k` is the file `<dataDir>/objects/b/k`, its
 * content type `<dataDir>/objects/.meta/b/k`. Writes go to a temporary file that is renamed into place,
 * so a reader sees the whole object or none (as with S3), also when a streamed export fails half-way.
 *
 * Presigned links (the S3 presigned GET's stand-in): `<baseUrl>/_local/objects/<bucket>/<key>?expires=…
 * [&filename=…]&signature=…`, where the signature is HMAC-SHA256 (base64url) over bucket, key, expiry and
 * download name, keyed by 32 random bytes in `<dataDir>/objects.key` (0600, made on first use). The local
 * server answers them through `localObjectPages`, which checks the signature and expiry before it opens
 * any file. Keys are checked before they become paths: no `..`, no absolute paths, no backslashes, no
 * empty segments, no NUL — a key can never name a file outside its bucket.
 *
 * Differences from S3 that callers may meet: a key cannot be both an object and the "folder" of another
 * (`a` and `a/b`), as a file cannot be a directory.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createReadStream, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ObjectStore } from '../../domain/ingest-ports';
import { SECURITY_HEADERS } from '../../http/response';

export interface LocalObjectStoreOptions {
  readonly dataDir: string;
  /** Bucket name: a directory under <dataDir>/objects/. */
  readonly bucket: string;
  /** Base URL of the local server (presigned links point here). */
  readonly baseUrl: string;
}

export const LOCAL_OBJECTS_PATH = '/_local/objects/';
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
/** Like S3's limit for SigV4 presigned URLs: seven days. */
const MAX_PRESIGN_SECONDS = 7 * 86_400;

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,62}$/;

function checkBucket(bucket: string): string {
  if (!BUCKET.test(bucket) || bucket.includes('..')) throw new Error(`invalid bucket name ${JSON.stringify(bucket)}`);
  return bucket;
}

/** Why a key is refused, or undefined when it is fine. */
function keyProblem(key: string): string | undefined {
  if (key.length === 0 || Buffer.byteLength(key) > 1024) return 'must be 1 to 1024 bytes';
  if (key.includes('\\')) return 'must not contain backslashes';
  if (key.includes('\0')) return 'must not contain NUL';
  if (key.startsWith('/')) return 'must not be absolute';
  if (key.includes('..')) return 'must not contain ".."';
  if (key.split('/').some((s) => s === '' || s === '.')) return 'must not have empty or "." segments';
  return undefined;
}

function checkKey(key: string): string {
  const p = keyProblem(key);
  if (p !== undefined) throw new Error(`invalid object key ${JSON.stringify(key)}: ${p}`);
  return key;
}

/** A prefix may end anywhere (`exports/ab`); the same rules apply to what it has. */
function checkPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  const p = keyProblem(prefix.endsWith('/') ? `${prefix}x` : prefix);
  if (p !== undefined) throw new Error(`invalid object key prefix ${JSON.stringify(prefix)}: ${p}`);
  return prefix;
}

function objectsRoot(dataDir: string): string {
  return join(dataDir, 'objects');
}

// --- signing -------------------------------------------------------------------------------------

const signingKeys = new Map<string, Buffer>();

/**
 * The link-signing key, created on first use. Written to a temporary file and hard-linked into place, so
 * two processes starting at once agree on one key (link fails if the name exists) and none reads a
 * half-written file.
 */
function signingKey(dataDir: string): Buffer {
  const cached = signingKeys.get(dataDir);
  if (cached) return cached;
  const path = join(dataDir, 'objects.key');
  let key: Buffer;
  try {
    key = readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    key = createSigningKeySync(dataDir, path);
  }
  if (key.length !== 32) throw new Error(`${path} is not a 32-byte key`);
  signingKeys.set(dataDir, key);
  return key;
}

function createSigningKeySync(dataDir: string, path: string): Buffer {
  // Synchronous on purpose: once per process per data dir, and the signer needs the key to answer at all.
  mkdirSync(dataDir, { recursive: true });
  const tmp = `${path}.${randomUUID()}.tmp`;
  writeFileSync(tmp, randomBytes(32), { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  return readFileSync(path);
}

function signature(dataDir: string, bucket: string, key: string, expires: number, filename: string): string {
  // JSON keeps the fields apart: no choice of key and name can produce another link's message.
  return createHmac('sha256', signingKey(dataDir)).update(JSON.stringify(['GET', bucket, key, expires, filename])).digest('base64url');
}

/** RFC 6266 attachment with an ASCII fallback and the exact UTF-8 name (RFC 8187). */
export function attachmentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

// --- the store -------------------------------------------------------------------------------------

export class LocalObjectStore implements ObjectStore {
  private readonly root: string;
  private readonly bucketDir: string;
  private readonly metaDir: string;

  constructor(readonly options: LocalObjectStoreOptions) {
    checkBucket(options.bucket);
    this.root = objectsRoot(options.dataDir);
    this.bucketDir = join(this.root, options.bucket);
    this.metaDir = join(this.root, '.meta', options.bucket);
  }

  async put(key: string, body: string | Uint8Array, contentType: string): Promise<void> {
    await this.write(key, contentType, async (tmp) => {
      await writeFile(tmp, body, { flag: 'wx' });
    });
  }

  async putStream(key: string, body: Readable, contentType: string): Promise<{ readonly bytes: number }> {
    let bytes = 0;
    try {
      await this.write(key, contentType, async (tmp) => {
        const count = new Transform({
          transform(chunk: Buffer, _enc, done) {
            bytes += chunk.length;
            done(null, chunk);
          },
        });
        const handle = await open(tmp, 'wx');
        await pipeline(body, count, handle.createWriteStream());
      });
    } catch (err) {
      // A body never read (bad key, full disk) must still end, or its producer waits forever.
      body.destroy();
      throw err;
    }
    return { bytes };
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(join(this.bucketDir, checkKey(key)));
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  /**
   * Lexical (UTF-8 byte) order, as S3 lists, while walking the tree depth-first: a directory sorts as its
   * name plus `/`, which is exactly where its keys fall among its siblings (`a-b` < `a/…` < `a0`).
   */
  async *list(prefix: string): AsyncGenerator<string, void, undefined> {
    checkPrefix(prefix);
    const cut = prefix.lastIndexOf('/');
    const dirKey = prefix.slice(0, cut + 1);
    const namePrefix = prefix.slice(cut + 1);
    yield* this.walk(dirKey, namePrefix);
  }

  async deletePrefix(prefix: string): Promise<number> {
    checkPrefix(prefix);
    let deleted = 0;
    for await (const key of this.list(prefix)) {
      await unlink(join(this.bucketDir, key)).catch((err: unknown) => {
        if (!isMissing(err)) throw err;
      });
      await unlink(join(this.metaDir, key)).catch(() => undefined);
      deleted++;
    }
    const cut = prefix.lastIndexOf('/');
    await pruneEmptyDirs(this.bucketDir, prefix.slice(0, cut + 1));
    await pruneEmptyDirs(this.metaDir, prefix.slice(0, cut + 1));
    return deleted;
  }

  async presignGet(key: string, expiresInSeconds: number, downloadName?: string): Promise<string> {
    checkKey(key);
    if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_PRESIGN_SECONDS) throw new Error(`presign: expiry must be 1 to ${MAX_PRESIGN_SECONDS} seconds`);
    const expires = Math.floor(Date.now() / 1000) + expiresInSeconds;
    const filename = downloadName ?? '';
    const path = `${LOCAL_OBJECTS_PATH}${this.options.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
    const q = new URLSearchParams({ expires: String(expires) });
    if (downloadName !== undefined) q.set('filename', downloadName);
    q.set('signature', signature(this.options.dataDir, this.options.bucket, key, expires, filename));
    return `${this.options.baseUrl.replace(/\/$/, '')}${path}?${q.toString()}`;
  }

  /** Temp file in `<objects>/.tmp` (same file system, so the rename is atomic), content type first. */
  private async write(key: string, contentType: string, fill: (tmp: string) => Promise<void>): Promise<void> {
    checkKey(key);
    const tmpDir = join(this.root, '.tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, randomUUID());
    try {
      await fill(tmp);
      const target = join(this.bucketDir, key);
      const meta = join(this.metaDir, key);
      await mkdir(dirname(target), { recursive: true });
      await mkdir(dirname(meta), { recursive: true });
      // The content type lands before the object: a visible object always has it.
      await writeFile(meta, JSON.stringify({ contentType }));
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  private async *walk(dirKey: string, namePrefix: string): AsyncGenerator<string, void, undefined> {
    let entries;
    try {
      entries = await readdir(join(this.bucketDir, dirKey), { withFileTypes: true });
    } catch (err) {
      if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw err;
    }
    const sorted = entries
      .filter((e) => e.name.startsWith(namePrefix) && (e.isFile() || e.isDirectory()))
      .map((e) => ({ dir: e.isDirectory(), name: e.name, sortKey: Buffer.from(e.isDirectory() ? `${e.name}/` : e.name) }))
      .sort((a, b) => Buffer.compare(a.sortKey, b.sortKey));
    for (const e of sorted) {
      if (e.dir) yield* this.walk(`${dirKey}${e.name}/`, '');
      else yield `${dirKey}${e.name}`;
    }
  }
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** Removes directories left empty under `dirKey` (best effort: a concurrent writer may refill one). */
async function pruneEmptyDirs(base: string, dirKey: string): Promise<void> {
  const prune = async (dir: string): Promise<boolean> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return false;
    }
    let empty = true;
    for (const e of entries) {
      if (!e.isDirectory() || !(await prune(join(dir, e.name)))) empty = false;
    }
    if (!empty) return false;
    return rmdir(dir).then(
      () => true,
      () => false,
    );
  };
  const start = join(base, dirKey);
  if (dirKey === '') {
    // Keep the bucket directory itself; prune what is under it.
    const entries = await readdir(start, { withFileTypes: true }).catch(() => []);
    for (const e of entries) if (e.isDirectory()) await prune(join(start, e.name));
    return;
  }
  await prune(start);
}

// --- the local server's side ------------------------------------------------------------------------

function deny(res: ServerResponse, status: number, message: string, head: boolean): true {
  const body = `${message}\n`;
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) });
  res.end(head ? undefined : body);
  return true;
}

/**
 * The local server's handler for presigned links (`/_local/objects/...`); false when the path is not its.
 * Checks the signature (constant time) and expiry before touching the file system: 403 for a bad, tampered
 * or expired link — the same answer for each, as S3 gives — then 404 when the object is gone. GET and HEAD.
 */
export function localObjectPages(dataDir: string): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (!url.pathname.startsWith(LOCAL_OBJECTS_PATH)) return false;
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.writeHead(405, { ...SECURITY_HEADERS, allow: 'GET, HEAD', 'content-length': '0' });
      res.end();
      return true;
    }
    let bucket: string;
    let key: string;
    try {
      const [b, ...rest] = url.pathname.slice(LOCAL_OBJECTS_PATH.length).split('/').map(decodeURIComponent);
      bucket = checkBucket(b ?? '');
      key = checkKey(rest.join('/'));
    } catch {
      return deny(res, 403, 'Forbidden', head);
    }
    const expires = Number(url.searchParams.get('expires'));
    const given = url.searchParams.get('signature') ?? '';
    const filename = url.searchParams.get('filename') ?? '';
    if (!Number.isSafeInteger(expires)) return deny(res, 403, 'Forbidden', head);
    const expected = Buffer.from(signature(dataDir, bucket, key, expires, filename));
    const actual = Buffer.from(given);
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return deny(res, 403, 'Forbidden', head);
    if (Math.floor(Date.now() / 1000) > expires) return deny(res, 403, 'Request has expired', head);

    const root = objectsRoot(dataDir);
    const path = join(root, bucket, key);
    let size: number;
    try {
      const s = await stat(path);
      if (!s.isFile()) return deny(res, 404, 'Not Found', head);
      size = s.size;
    } catch {
      return deny(res, 404, 'Not Found', head);
    }
    let contentType = DEFAULT_CONTENT_TYPE;
    try {
      const meta = JSON.parse(await readFile(join(root, '.meta', bucket, key), 'utf8')) as { contentType?: unknown };
      if (typeof meta.contentType === 'string') contentType = meta.contentType;
    } catch {
      // No recorded type: the S3 default.
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': contentType,
      'content-length': String(size),
      ...(filename !== '' ? { 'content-disposition': attachmentDisposition(filename) } : {}),
    });
    if (head) {
      res.end();
      return true;
    }
    await pipeline(createReadStream(path), res).catch(() => res.destroy());
    return true;
  };
}
