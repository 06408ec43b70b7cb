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
import { generateSigningKey, importSigningKey, publishedJwk } from '../../domain/identity/jwt';
import { assertRotationAllowed, planRotation, publishedAt, signingKidAt, type RotationOptions, type RotationOutcome } from '../../domain/identity/key-rotation';
import type { ActiveSigningKey, SigningKeyStore } from '../../domain/identity/ports';

export const SIGNING_KEYS_FILE = 'signing-keys.json';

export interface FileSigningKeyStoreOptions {
  readonly dataDir: string;
  /** How long a replaced key stays published: at least the longest token lifetime plus clock skew. */
  readonly retainPreviousSeconds: number;
  /** How long a new key is published before it signs (staged rotation): at least the JWKS cache lifetime. */
  readonly publishLeadSeconds: number;
  readonly clock?: () => Date;
}

const b64url = z.string().regex(/^[A-Za-z0-9_-]+$/);
const publicJwkSchema = z.object({ kty: z.literal('EC'), crv: z.literal('P-256'), x: b64url, y: b64url });
const keyEntrySchema = z.object({
  kid: b64url,
  privateJwk: publicJwkSchema.extend({ d: b64url }),
  publicJwk: publicJwkSchema,
  createdAt: z.iso.datetime(),
  status: z.enum(['current', 'previous', 'next']),
  /** null while nothing has replaced the key: its retirement clock starts when it stops signing. */
  retireAfter: z.iso.datetime().nullable(),
  /** When a next key starts to sign; absent in files written before staged rotation. */
  activatesAt: z.iso.datetime().nullable().default(null),
});
const fileSchema = z.object({ version: z.literal(1), keys: z.array(keyEntrySchema) });
type KeyFile = z.infer<typeof fileSchema>;
type KeyEntry = z.infer<typeof keyEntrySchema>;

/** What stays in memory between calls: public data, plus the signing key already imported (non-extractable). */
interface Cached {
  /** inode + mtime + size: a rename gives a new inode, so a rewrite within one mtime tick is still seen. */
  readonly signature: string;
  readonly keys: readonly Pick<KeyEntry, 'kid' | 'publicJwk' | 'status' | 'retireAfter' | 'activatesAt'>[];
  /** kid → its imported key: the key that signs, and the next one once it does. */
  readonly signers: Map<string, Promise<ActiveSigningKey>>;
}

/** Which keys sign now and next: what a rotation compares to detect a concurrent one. */
function lineup(keys: readonly Pick<KeyEntry, 'kid' | 'status'>[]): string {
  return `${keys.find((k) => k.status === 'current')?.kid ?? ''}|${keys.find((k) => k.status === 'next')?.kid ?? ''}`;
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
    if (!Number.isFinite(options.publishLeadSeconds) || options.publishLeadSeconds < 0) {
      throw new RangeError('publishLeadSeconds must be a non-negative number');
    }
    this.file = join(options.dataDir, SIGNING_KEYS_FILE);
    this.clock = options.clock ?? (() => new Date());
  }

  async current(): Promise<ActiveSigningKey> {
    const signingIn = (s: Cached | undefined): string | null => (s === undefined ? null : signingKidAt(s.keys, this.clock().getTime()));
    let state = await this.load();
    let kid = signingIn(state);
    if (kid === null) {
      // One creation per instance however many first requests arrive; other processes are held off by the lock.
      this.creating ??= this.createFirst().finally(() => (this.creating = undefined));
      await this.creating;
      state = await this.load();
      kid = signingIn(state);
    }
    if (state === undefined || kid === null) throw new InternalError(`${this.file} has no current signing key after creating one`);
    let signer = state.signers.get(kid);
    if (signer === undefined) {
      // Only the non-extractable import of the signing key stays in memory, never a private JWK.
      signer = this.readFile().then((f) => {
        const entry = f?.keys.find((k) => k.kid === kid);
        if (entry === undefined) throw new InternalError(`signing key ${kid} vanished from ${this.file}`);
        return importSigningKey(entry.kid, entry.privateJwk);
      });
      const signers = state.signers;
      signers.set(kid, signer);
      // A failed import must not stick: the next call retries.
      signer.catch(() => {
        if (signers.get(kid) === signer) signers.delete(kid);
      });
      // Drop the imports of keys that no longer sign.
      for (const other of signers.keys()) if (other !== kid) signers.delete(other);
    }
    return signer;
  }

  async publicJwks(): Promise<{ keys: JWK[] }> {
    const state = await this.load();
    if (state === undefined) return { keys: [] };
    return { keys: publishedAt(state.keys, this.clock().getTime()).map((k) => publishedJwk(k.kid, k.publicJwk)) };
  }

  async rotate(now: Date, options: RotationOptions = {}): Promise<RotationOutcome> {
    const before = (await this.load())?.keys ?? [];
    assertRotationAllowed(before, now, options);
    const expected = lineup(before);
    const fresh = await generateSigningKey();
    return this.withLock(async () => {
      const file = (await this.readFile()) ?? { version: 1 as const, keys: [] };
      if (lineup(file.keys) !== expected) {
        throw new ConflictError('The signing key was rotated concurrently; nothing was changed.');
      }
      const entry: KeyEntry = { kid: fresh.kid, privateJwk: fresh.privateJwk, publicJwk: fresh.publicJwk, createdAt: now.toISOString(), status: 'next', retireAfter: null, activatesAt: null };
      // Destruction (NFR-SEC-004): keys past their retirement are not in the plan, so they leave the file.
      const { keys, outcome } = planRotation(file.keys, entry, now, { ...options, leadSeconds: this.options.publishLeadSeconds, retainSeconds: this.options.retainPreviousSeconds });
      await this.writeFile({ version: 1, keys });
      return outcome;
    });
  }

  /** First use: create a key unless another caller (this process or another) got there first. */
  private async createFirst(): Promise<void> {
    const first = await generateSigningKey();
    await this.withLock(async () => {
      const file = await this.readFile();
      if (file?.keys.some((k) => k.status === 'current' || k.status === 'next')) return; // the loser keeps the winner's key
      const keys = file?.keys ?? [];
      keys.push({ kid: first.kid, privateJwk: first.privateJwk, publicJwk: first.publicJwk, createdAt: this.clock().toISOString(), status: 'current', retireAfter: null, activatesAt: null });
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
      keys: file.keys.map((k) => ({ kid: k.kid, publicJwk: k.publicJwk, status: k.status, retireAfter: k.retireAfter, activatesAt: k.activatesAt })),
      signers: new Map(),
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
    for (const status of ['current', 'next'] as const) {
      const n = result.data.keys.filter((k) => k.status === status).length;
      if (n > 1) throw new InternalError(`${this.file} has ${n} ${status} signing keys`);
    }
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
