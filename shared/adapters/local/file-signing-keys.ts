/**
 * Local mode's SigningKeyStore (ADR-0005): ES256 keys in `<dataDir>/signing-keys.json`, mode 0600, the
 * same pattern as the dev IdP's key file. Nothing protects the keys beyond file permissions: this adapter
 * is for a developer's machine, never for AWS.
 *
 * Several processes may share the file (`npm start` and a test, two API processes): every write happens
 * under a lock file and re-reads the file first, so concurrent first starts agree on one key and
 * concurrent rotations cannot both win. Reads take no lock: writes replace the file by rename, so a
 * reader sees either the old or the new file, never a torn one.
 */
import { statSync } from 'node:fs';
import { mkdir, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { z } from 'zod';
import { ConflictError, InternalError, UnavailableError } from '../../domain/errors';
import { generateSigningKey, importSigningKey, publishedJwk, type Es256PublicJwk } from '../../domain/identity/jwt';
import type { ActiveSigningKey, SigningKeyStore } from '../../domain/identity/ports';

export const SIGNING_KEYS_FILE = 'signing-keys.json';

export interface FileSigningKeyStoreOptions {
  readonly dataDir: string;
  /** How long a replaced key stays published: at least the longest token lifetime plus clock skew. */
  readonly retainPreviousSeconds: number;
  readonly clock?: () => Date;
}

const b64url = z.string().regex(/^[A-Za-z0-9_-]+$/);
const publicJwkSchema = z.object({ kty: z.literal('EC'), crv: z.literal('P-256'), x: b64url, y: b64url });
const keyEntrySchema = z.object({
  kid: b64url,
  privateJwk: publicJwkSchema.extend({ d: b64url }),
  publicJwk: publicJwkSchema,
  createdAt: z.iso.datetime(),
  status: z.enum(['current', 'previous']),
  /** null while current: a key's retirement clock starts when it stops signing. */
  retireAfter: z.iso.datetime().nullable(),
});
const fileSchema = z.object({ version: z.literal(1), keys: z.array(keyEntrySchema) });
type KeyFile = z.infer<typeof fileSchema>;
type KeyEntry = z.infer<typeof keyEntrySchema>;

/** What stays in memory between calls: public data, plus the current key already imported (non-extractable). */
interface Cached {
  /** inode + mtime + size: a rename gives a new inode, so a rewrite within one mtime tick is still seen. */
  readonly signature: string;
  readonly published: readonly { kid: string; publicJwk: Es256PublicJwk; retireAfter: string | null }[];
  readonly currentKid: string | null;
  signer?: Promise<ActiveSigningKey>;
}

const LOCK_STALE_MS = 10_000;
const LOCK_WAIT_MS = 5_000;

export class FileSigningKeyStore implements SigningKeyStore {
  private readonly file: string;
  private readonly clock: () => Date;
  private cached: Cached | undefined;
  private creating: Promise<void> | undefined;

  constructor(private readonly options: FileSigningKeyStoreOptions) {
    if (!Number.isFinite(options.retainPreviousSeconds) || options.retainPreviousSeconds < 0) {
      throw new RangeError('retainPreviousSeconds must be a non-negative number');
    }
    this.file = join(options.dataDir, SIGNING_KEYS_FILE);
    this.clock = options.clock ?? (() => new Date());
  }

  async current(): Promise<ActiveSigningKey> {
    let state = await this.load();
    if (state === undefined || state.currentKid === null) {
      // One creation per instance however many first requests arrive; other processes are held off by the lock.
      this.creating ??= this.createFirst().finally(() => (this.creating = undefined));
      await this.creating;
      state = await this.load();
    }
    if (state === undefined || state.currentKid === null) throw new InternalError(`${this.file} has no current signing key after creating one`);
    if (state.signer === undefined) {
      const kid = state.currentKid;
      // Only the non-extractable import of the current key stays in memory, never a private JWK.
      state.signer = this.readFile().then((f) => {
        const entry = f?.keys.find((k) => k.kid === kid);
        if (entry === undefined) throw new InternalError(`signing key ${kid} vanished from ${this.file}`);
        return importSigningKey(entry.kid, entry.privateJwk);
      });
      // A failed import must not stick: the next call retries.
      state.signer.catch(() => {
        if (this.cached === state) delete state.signer;
      });
    }
    return state.signer;
  }

  async publicJwks(): Promise<{ keys: JWK[] }> {
    const state = await this.load();
    if (state === undefined) return { keys: [] };
    const now = this.clock().getTime();
    return {
      keys: state.published
        .filter((k) => k.kid === state.currentKid || (k.retireAfter !== null && Date.parse(k.retireAfter) > now))
        .map((k) => publishedJwk(k.kid, k.publicJwk)),
    };
  }

  async rotate(now: Date): Promise<{ kid: string; previousKid: string | null }> {
    const expected = (await this.load())?.currentKid ?? null;
    const next = await generateSigningKey();
    return this.withLock(async () => {
      const file = (await this.readFile()) ?? { version: 1, keys: [] };
      const current = file.keys.find((k) => k.status === 'current')?.kid ?? null;
      if (current !== expected) {
        throw new ConflictError('The signing key was rotated concurrently; nothing was changed.');
      }
      const retireAfter = new Date(now.getTime() + this.options.retainPreviousSeconds * 1000).toISOString();
      const keys: KeyEntry[] = file.keys
        // Destruction (NFR-SEC-004): previous keys past their retirement leave the file for good.
        .filter((k) => k.status === 'current' || (k.retireAfter !== null && Date.parse(k.retireAfter) > now.getTime()))
        .map((k) => (k.status === 'current' ? { ...k, status: 'previous', retireAfter } : k));
      keys.push({ kid: next.kid, privateJwk: next.privateJwk, publicJwk: next.publicJwk, createdAt: now.toISOString(), status: 'current', retireAfter: null });
      await this.writeFile({ version: 1, keys });
      return { kid: next.kid, previousKid: current };
    });
  }

  /** First use: create a key unless another caller (this process or another) got there first. */
  private async createFirst(): Promise<void> {
    const first = await generateSigningKey();
    await this.withLock(async () => {
      const file = await this.readFile();
      if (file?.keys.some((k) => k.status === 'current')) return; // the loser keeps the winner's key
      const keys = file?.keys ?? [];
      keys.push({ kid: first.kid, privateJwk: first.privateJwk, publicJwk: first.publicJwk, createdAt: this.clock().toISOString(), status: 'current', retireAfter: null });
      await this.writeFile({ version: 1, keys });
    });
  }

  /** The in-memory view, refreshed when the file changed (another store instance or process rotated). */
  private async load(): Promise<Cached | undefined> {
    let signature: string;
    try {
      // Synchronous on purpose: this runs for every token signed, and a stat of a small local file takes
      // microseconds, less than the thread-pool round trip and promise of the async call (issue #3 bench).
      const s = statSync(this.file, { bigint: true });
      signature = `${s.ino}:${s.mtimeNs}:${s.size}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return (this.cached = undefined);
      throw new UnavailableError(`cannot stat ${this.file}`, err);
    }
    if (this.cached?.signature === signature) return this.cached;
    const file = await this.readFile();
    if (file === undefined) return (this.cached = undefined);
    // The signature was taken before the read; if the file changed in between, the next call re-reads.
    this.cached = {
      signature,
      published: file.keys.map((k) => ({ kid: k.kid, publicJwk: k.publicJwk, retireAfter: k.retireAfter })),
      currentKid: file.keys.find((k) => k.status === 'current')?.kid ?? null,
    };
    return this.cached;
  }

  private async readFile(): Promise<KeyFile | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new UnavailableError(`cannot read ${this.file}`, err);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const result = fileSchema.safeParse(parsed);
    // Refuse rather than regenerate: a new key would invalidate every token issued so far. The message
    // names the failing paths only, never values (they include private keys).
    if (!result.success) {
      throw new InternalError(`${this.file} is not a signing key file (${result.error.issues.map((i) => i.path.join('.')).join(', ')}); delete it to start over`);
    }
    const current = result.data.keys.filter((k) => k.status === 'current');
    if (current.length > 1) throw new InternalError(`${this.file} has ${current.length} current signing keys`);
    return result.data;
  }

  private async writeFile(content: KeyFile): Promise<void> {
    await mkdir(this.options.dataDir, { recursive: true });
    // Write then rename: readers never see a half-written file, and a crash leaves the old one intact.
    const tmp = `${this.file}.${process.pid}.${Date.now()}.tmp`;
    try {
      await writeFile(tmp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      await rename(tmp, this.file);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw new UnavailableError(`cannot write ${this.file}`, err);
    }
    // Drop the view so the next load() rebuilds it from what is now on disk.
    this.cached = undefined;
  }

  /**
   * Cross-process mutual exclusion by an O_EXCL lock file. A lock older than LOCK_STALE_MS is taken over:
   * holders generate keys before locking and only read and write one small file under the lock, so a
   * lock that old was left behind by a process that died.
   */
  private async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const lock = `${this.file}.lock`;
    await mkdir(this.options.dataDir, { recursive: true });
    const giveUpAt = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const handle = await open(lock, 'wx', 0o600);
        await handle.close();
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new UnavailableError(`cannot create ${lock}`, err);
      }
      const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > LOCK_STALE_MS) {
        await unlink(lock).catch(() => undefined);
        continue;
      }
      if (Date.now() > giveUpAt) throw new UnavailableError(`${lock} is held by another process`);
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
    }
    try {
      return await fn();
    } finally {
      await unlink(lock).catch(() => undefined);
    }
  }
}
