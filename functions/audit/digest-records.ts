import { z } from 'zod';
import { parseDigestDocument, recordKey, requireAuditReadAll } from '../../shared/domain/audit-digest';
import { InternalError, NotFoundError, ValidationError } from '../../shared/domain/errors';
import { subjectOf } from '../../shared/domain/principal';
import { defineHandler } from '../../shared/http/handler';

const params = z.strictObject({ seq: z.coerce.number().int('must be an integer').min(1, 'must be at least 1') });
const query = z.strictObject({ cursor: z.string().max(200, 'is too long').optional() });
const cursorSchema = z.strictObject({ b: z.int().min(0), e: z.int().min(0) });

/** Entries per page, and a byte budget well under Lambda's 6 MB response limit (records carry metadata). */
const PAGE_ENTRIES = 500;
const PAGE_BYTES = 3 * 1024 * 1024;

function decodeCursor(cursor: string | undefined): { b: number; e: number } {
  if (cursor === undefined) return { b: 0, e: 0 };
  try {
    const parsed = cursorSchema.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (parsed.success) return parsed.data;
  } catch {
    // Falls through to the validation error: a cursor this endpoint did not issue.
  }
  throw new ValidationError('The cursor is not valid.', [{ location: 'query', pointer: '/cursor', detail: 'is not a cursor this endpoint issued' }]);
}

function encodeCursor(c: { b: number; e: number }): string {
  return Buffer.from(JSON.stringify(c), 'utf8').toString('base64url');
}

/**
 * GET /v1/audit/digests/{seq}/records?cursor= — for Auditors (`audit.read.all`): the batches digest `seq`
 * names, each with the ledger's entries as found and, per entry, the record stored at that key now (or
 * null when absent), so the verifier can recompute every hash itself. Pages split long batches; each
 * batch slice says its offset and the batch's total, so the client can reassemble the entries in order.
 * Audited (CON-SEC-002: the stored records name people) once per digest read, on its first page.
 */
export const handler = defineHandler({
  auth: 'tenant',
  params,
  query,
  auditAction: 'audit.digest.read',
  handle: async ({ params: p, query: q, principal, deps }) => {
    requireAuditReadAll(subjectOf(principal));
    const ledger = deps.ingest.ledger;
    const digest = await ledger.getDigest(p.seq);
    if (!digest) throw new NotFoundError(`There is no audit digest ${p.seq}.`);
    const doc = parseDigestDocument(digest.document);
    if (!doc) throw new InternalError(`stored audit digest ${p.seq} is not a digest document`);
    let { b, e } = decodeCursor(q.cursor);
    const items: unknown[] = [];
    let entries = 0;
    let bytes = 0;
    while (b < doc.batches.length && entries < PAGE_ENTRIES && bytes < PAGE_BYTES) {
      const ref = doc.batches[b]!;
      const batch = await ledger.getBatch(ref.deliveredAt, ref.batchId);
      if (!batch) {
        items.push({ index: b, batchId: ref.batchId, deliveredAt: ref.deliveredAt, found: false, offset: 0, total: 0, entries: [] });
        b++;
        e = 0;
        continue;
      }
      const slice = batch.entries.slice(e, e + (PAGE_ENTRIES - entries));
      const stored = await ledger.storedRecords(slice);
      const out = slice.map((x) => ({ pk: x.pk, sk: x.sk, id: x.id, hash: x.hash, stored: stored.get(recordKey(x.pk, x.sk)) ?? null }));
      items.push({ index: b, batchId: ref.batchId, deliveredAt: ref.deliveredAt, found: true, offset: e, total: batch.entries.length, entries: out });
      entries += slice.length;
      bytes += JSON.stringify(out).length;
      e += slice.length;
      if (e >= batch.entries.length) {
        b++;
        e = 0;
      }
    }
    const body = { seq: p.seq, items, nextCursor: b < doc.batches.length ? encodeCursor({ b, e }) : null };
    if (q.cursor !== undefined) return { status: 200, body };
    return { status: 200, body, audit: { resource: `audit-digest:${p.seq}`, tenantId: null, details: { batches: doc.batches.length } } };
  },
});
