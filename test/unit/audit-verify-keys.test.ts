/**
 * `cpctl audit verify` across a replaced digest signing key (ADR-0008): the API serves only the current
 * public key, so digests signed with an earlier key verify only with that key supplied out of band.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileDigestSigner } from '../../shared/adapters/local/file-digest-signer';
import { ApiClient } from '../../shared/cli/api-client';
import { formatVerifyReport, parsePreviousDigestKey, verifyAuditTrail } from '../../shared/cli/audit-verify';
import { buildDigest, DIGEST_GENESIS, keyFingerprint, signDigest, type SignedDigest } from '../../shared/domain/audit-digest';

const NOW = new Date('2030-01-01T12:00:00.000Z');
const signerIn = (): FileDigestSigner => new FileDigestSigner({ dataDir: mkdtempSync(join(tmpdir(), 'digest-key-')) });

/** Digests 1 and 2 signed with the old key, 3 with the current one, chained as the job chains them. */
async function chain(old: FileDigestSigner, current: FileDigestSigner): Promise<SignedDigest[]> {
  const out: SignedDigest[] = [];
  let periodStart = DIGEST_GENESIS;
  for (const [i, signer] of [old, old, current].entries()) {
    const periodEnd = new Date(NOW.getTime() - 3_600_000 * (3 - i)).toISOString();
    const built = buildDigest({ seq: i + 1, region: 'eu-central-1', periodStart, periodEnd, previous: out[i - 1] ?? null, batches: [], keyId: signer.keyId });
    out.push(await signDigest(built, signer));
    periodStart = periodEnd;
  }
  return out;
}

/** The API as `cpctl` sees it: one page of digests and the current key. */
class DigestApi extends ApiClient {
  constructor(
    private readonly digests: SignedDigest[],
    private readonly current: { keyId: string; spki: Uint8Array },
  ) {
    super('http://127.0.0.1:1', undefined);
  }

  override request<T>(method: string, path: string): Promise<T> {
    if (method !== 'GET' || !path.startsWith('/v1/audit/digests?')) throw new Error(`unexpected ${method} ${path}`);
    const from = Number(new URL(path, 'http://x').searchParams.get('fromSeq'));
    const items = this.digests.filter((d) => d.seq >= from).map((d) => ({ seq: d.seq, document: d.document, signature: d.signature }));
    return Promise.resolve({ keyId: this.current.keyId, publicKey: Buffer.from(this.current.spki).toString('base64'), items, nextSeq: null } as T);
  }
}

const pem = (spki: Uint8Array): string => createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString();

describe('cpctl audit verify across a replaced digest key (ADR-0008, FR-LOG-001)', () => {
  it('without the earlier key, its digests are reported as unverifiable; with it (PEM or base64 DER), the whole chain verifies', async () => {
    const old = signerIn();
    const current = signerIn();
    const digests = await chain(old, current);
    const api = new DigestApi(digests, { keyId: current.keyId, spki: await current.publicKey() });

    const without = await verifyAuditTrail(api, { now: NOW });
    expect(without.tampered).toBe(true);
    expect(without.findings.filter((f) => f.kind === 'digest-signature-invalid').map((f) => f.seq)).toEqual([1, 2]);
    expect(without.findings[0]?.detail).toMatch(/which the verifier does not have/);

    const oldSpki = await old.publicKey();
    for (const text of [pem(oldSpki), Buffer.from(oldSpki).toString('base64')]) {
      const withKey = await verifyAuditTrail(api, { now: NOW, previousKeys: [parsePreviousDigestKey(old.keyId, text)] });
      expect(withKey.findings).toEqual([]);
      expect(withKey.tampered).toBe(false);
      expect(withKey.previousKeys).toEqual([{ keyId: old.keyId, keySha256: keyFingerprint(oldSpki) }]);
      expect(formatVerifyReport(withKey)).toContain(`Earlier signing key supplied: ${old.keyId} (sha256 ${keyFingerprint(oldSpki)})`);
    }
  });

  it('a wrong key supplied for the earlier id does not verify, and a supplied key cannot replace the served one', async () => {
    const old = signerIn();
    const current = signerIn();
    const digests = await chain(old, current);
    const currentSpki = await current.publicKey();
    const api = new DigestApi(digests, { keyId: current.keyId, spki: currentSpki });
    const impostor = await signerIn().publicKey();

    const wrong = await verifyAuditTrail(api, { now: NOW, previousKeys: [parsePreviousDigestKey(old.keyId, pem(impostor))] });
    expect(wrong.findings.filter((f) => f.kind === 'digest-signature-invalid').map((f) => f.seq)).toEqual([1, 2]);
    expect(wrong.findings[0]?.detail).toMatch(/does not verify/);

    // Supplying another key under the current key's id changes nothing: digest 3 is checked with the served key.
    const shadow = await verifyAuditTrail(api, { now: NOW, previousKeys: [parsePreviousDigestKey(old.keyId, pem(await old.publicKey())), parsePreviousDigestKey(current.keyId, pem(impostor))] });
    expect(shadow.tampered).toBe(false);
    expect(shadow.previousKeys.map((k) => k.keyId)).toEqual([old.keyId]);
  });

  it('only P-256 public keys are accepted as earlier keys', () => {
    const ed = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => parsePreviousDigestKey('k', ed)).toThrow(/not a P-256 key/);
    expect(() => parsePreviousDigestKey('k', 'not a key')).toThrow(/not a public key/);
    expect(() => parsePreviousDigestKey(' ', ed)).toThrow(/<keyId>=<file>/);
  });
});
