import { z } from 'zod';
import { keyFingerprint, requireAuditReadAll, type SignedDigest } from '../../shared/domain/audit-digest';
import { subjectOf } from '../../shared/domain/principal';
import { defineHandler } from '../../shared/http/handler';

const query = z.strictObject({
  fromSeq: z.coerce.number().int('must be an integer').min(1, 'must be at least 1').default(1),
  limit: z.coerce.number().int('must be an integer').min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(100),
});

/** A Lambda response is at most 6 MB: a page of digests stops short of that, however many batches they name. */
const PAGE_BYTES = 4 * 1024 * 1024;

/**
 * GET /v1/audit/digests?fromSeq=&limit= — the signed audit digests in seq order (ADR-0008), for Auditors
 * (`audit.read.all`). Each comes as the exact signed bytes plus the signature, with the signing key's
 * public half (SPKI, base64): `cpctl audit verify` checks everything itself and should pin the key's
 * fingerprint rather than trust the one served here.
 */
export const handler = defineHandler({
  auth: 'tenant',
  query,
  handle: async ({ query: q, principal, deps }) => {
    requireAuditReadAll(subjectOf(principal));
    const ledger = deps.ingest.ledger;
    const signer = deps.ingest.digestSigner;
    const [found, spki] = await Promise.all([ledger.listDigests(q.fromSeq, q.limit + 1), signer.publicKey()]);
    const items: SignedDigest[] = [];
    let bytes = 0;
    for (const d of found.slice(0, q.limit)) {
      if (items.length > 0 && bytes + d.document.length > PAGE_BYTES) break;
      items.push(d);
      bytes += d.document.length;
    }
    const last = items[items.length - 1];
    const more = found.length > items.length;
    return {
      status: 200,
      body: {
        keyId: signer.keyId,
        publicKey: Buffer.from(spki).toString('base64'),
        publicKeySha256: keyFingerprint(spki),
        items: items.map((d) => ({ seq: d.seq, keyId: d.keyId, document: d.document, hash: d.hash, signature: d.signature })),
        nextSeq: more && last ? last.seq + 1 : null,
      },
    };
  },
});
