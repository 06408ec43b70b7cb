/** Issue #6: per-item validation of ingestion batches (API-BILL, API-LOG) and message packing. */
import { describe, expect, it } from 'vitest';
import { INGEST_LIMITS } from '../../shared/config/constants';
import { packMessages, parseQueueMessage, PoisonMessageError, timestampProblem, validateAuditBatch, validateBillingBatch } from '../../shared/domain/ingestion';

const now = new Date('2026-11-21T12:00:00.000Z');
const tenant = '7d6f3c1e-8a2b-4c5d-9e0f-1a2b3c4d5e6f';
const caller = { appId: 'app1', keyId: 'k1' };
const ok = async (): Promise<'ok'> => 'ok';

describe('billing batch validation (API-BILL)', () => {
  it('FR-BILL-002: timestamps older than 35 days or more than 5 minutes ahead are refused; the edges are accepted', () => {
    expect(timestampProblem(new Date(now.getTime() - INGEST_LIMITS.maxAgeDays * 86_400_000).toISOString(), now)).toBeUndefined();
    expect(timestampProblem(new Date(now.getTime() - INGEST_LIMITS.maxAgeDays * 86_400_000 - 1).toISOString(), now)).toMatch(/past/);
    expect(timestampProblem(new Date(now.getTime() + 300_000).toISOString(), now)).toBeUndefined();
    expect(timestampProblem(new Date(now.getTime() + 300_001).toISOString(), now)).toMatch(/future/);
  });

  it('FR-BILL-002: normalises timestamps to UTC milliseconds, stamps the caller, and refuses a repeated id within the batch', async () => {
    const r = await validateBillingBatch(
      [
        { id: 'a', tenantId: tenant, timestamp: '2026-11-21T20:00:00+09:00', type: 'api.call', quantity: 2 },
        { id: 'a', tenantId: tenant, timestamp: '2026-11-21T11:00:00Z', type: 'api.call', quantity: 3 },
      ],
      caller,
      now,
      ok,
    );
    expect(r.accepted).toEqual([{ index: 0, value: { id: 'a', appId: 'app1', keyId: 'k1', tenantId: tenant, timestamp: '2026-11-21T11:00:00.000Z', type: 'api.call', quantity: 2, metadata: {}, receivedAt: now.toISOString() } }]);
    expect(r.rejected).toEqual([{ index: 1, id: 'a', code: 'ERR-VAL-400', errors: [{ field: 'id', detail: 'repeats the id of an earlier event in this batch' }] }]);
  });

  it('FR-BILL-002: asks once per tenant whether the application serves it; a purged tenant is 410', async () => {
    const asked: string[] = [];
    const access = async (t: string): Promise<'purged'> => {
      asked.push(t);
      return 'purged';
    };
    const r = await validateBillingBatch([1, 2, 3].map((i) => ({ id: `e${i}`, tenantId: tenant, timestamp: now.toISOString(), type: 't', quantity: i })), caller, now, access);
    expect(asked).toEqual([tenant]);
    expect(r.rejected.map((x) => x.code)).toEqual(['ERR-RES-410', 'ERR-RES-410', 'ERR-RES-410']);
  });
});

describe('audit batch validation (API-LOG)', () => {
  it('FR-LOG-001: a caller id is namespaced by application; without one the record gets a fresh id', async () => {
    const base = { tenantId: tenant, timestamp: now.toISOString(), actorId: 'u', eventType: 'doc.read', resourceId: 'doc:1', outcome: 'Success', ipAddress: '2001:db8::1' };
    const r = await validateAuditBatch([{ ...base, id: 'x1' }, base], caller, now, ok, () => 'generated');
    expect(r.accepted.map((a) => a.value.id)).toEqual(['app1:x1', 'generated']);
    expect(r.accepted[0]!.value.metadata).toMatchObject({ ip: '2001:db8::1', source: 'app:app1', keyId: 'k1' });
  });
});

describe('queue messages', () => {
  it('FR-BILL-002: packMessages keeps order and stays under the byte budget per message', () => {
    const items = Array.from({ length: 100 }, (_, i) => ({ i, pad: 'x'.repeat(1000) }));
    const msgs = packMessages(items, (chunk) => ({ kind: 'export', exportId: JSON.stringify(chunk.map((c) => c.i)) }), 10_000);
    const order = msgs.flatMap((m) => (m.kind === 'export' ? (JSON.parse(m.exportId) as number[]) : []));
    expect(order).toEqual(items.map((x) => x.i));
    expect(msgs.length).toBeGreaterThan(10);
  });

  it('FR-BILL-001: a message that is not JSON or not of the schema is poison', () => {
    expect(() => parseQueueMessage('{nope')).toThrow(PoisonMessageError);
    expect(() => parseQueueMessage('{"kind":"billing","events":[]}')).toThrow(PoisonMessageError);
    expect(parseQueueMessage('{"kind":"export","exportId":"e1"}')).toEqual({ kind: 'export', exportId: 'e1' });
  });
});
