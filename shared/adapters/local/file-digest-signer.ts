/**
 * Local mode's DigestSigner (issue #6, ADR-0008): a P-256 key in `<dataDir>/digest-key.json` (mode 0600),
 * created on first use. It signs exactly as the KMS adapter does — ECDSA over SHA-256 of the message,
 * DER signature — so one verifier (`crypto.verify('sha256', document, spki, signature)`) serves both.
 * Nothing protects the key beyond file permissions: this adapter is for a developer's machine only.
 *
 * The local server and a test (or two servers) may share the data directory: the first writer publishes
 * the file with link(2), which fails if the name exists, so concurrent first uses agree on one key and a
 * reader never sees a half-written file.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { InternalError } from '../../domain/errors';
import type { DigestSigner } from '../../domain/ingest-ports';

export const DIGEST_KEY_FILE = 'digest-key.json';

const b64url = z.string().regex(/^[A-Za-z0-9_-]+$/);
const keyFileSchema = z.object({
  version: z.literal(1),
  createdAt: z.string(),
  privateJwk: z.object({ kty: z.literal('EC'), crv: z.literal('P-256'), x: b64url, y: b64url, d: b64url }),
});

interface LoadedKey {
  readonly privateKey: KeyObject;
  readonly spki: Uint8Array;
  readonly keyId: string;
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url): a stable id derived from the public key alone. */
function thumbprint(jwk: { crv: string; kty: string; x: string; y: string }): string {
  return createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest('base64url');
}

export class FileDigestSigner implements DigestSigner {
  private loaded: LoadedKey | undefined;

  constructor(readonly options: { readonly dataDir: string }) {}

  /** `local:<thumbprint>`; reading it loads (or creates) the key, since the port wants it synchronously. */
  get keyId(): string {
    return this.key().keyId;
  }

  sign(message: Uint8Array): Promise<Uint8Array> {
    try {
      return Promise.resolve(new Uint8Array(sign('sha256', message, { key: this.key().privateKey, dsaEncoding: 'der' })));
    } catch (err) {
      return Promise.reject(err instanceof InternalError ? err : new InternalError('local digest signing failed', err));
    }
  }

  publicKey(): Promise<Uint8Array> {
    try {
      return Promise.resolve(this.key().spki);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private key(): LoadedKey {
    this.loaded ??= this.loadOrCreate();
    return this.loaded;
  }

  private get file(): string {
    return join(this.options.dataDir, DIGEST_KEY_FILE);
  }

  private loadOrCreate(): LoadedKey {
    const existing = this.read();
    if (existing) return existing;
    mkdirSync(this.options.dataDir, { recursive: true });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = privateKey.export({ format: 'jwk' });
    const body = JSON.stringify({ version: 1, createdAt: new Date().toISOString(), privateJwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d } }, null, 2);
    const tmp = `${this.file}.${randomUUID()}.tmp`;
    writeFileSync(tmp, `${body}\n`, { mode: 0o600, flag: 'wx' });
    try {
      linkSync(tmp, this.file);
    } catch (err) {
      // Another process published its key first: use that one.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new InternalError(`cannot write ${this.file}`, err);
    } finally {
      unlinkSync(tmp);
    }
    const published = this.read();
    if (!published) throw new InternalError(`${this.file} vanished after it was written`);
    return published;
  }

  private read(): LoadedKey | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new InternalError(`cannot read ${this.file}`, err);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new InternalError(`${this.file} is not JSON`, err);
    }
    const parsed = keyFileSchema.safeParse(raw);
    if (!parsed.success) throw new InternalError(`${this.file} is not a digest key file`);
    const jwk = parsed.data.privateJwk;
    const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
    const spki = new Uint8Array(createPublicKey(privateKey).export({ format: 'der', type: 'spki' }));
    return { privateKey, spki, keyId: `local:${thumbprint(jwk)}` };
  }
}
