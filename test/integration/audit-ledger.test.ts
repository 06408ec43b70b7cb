/**
 * The audit batch ledger and digest store against DynamoDB Local (issue #6, ADR-0008): idempotent batch
 * records, batches too large for one item, delivery-time ranges, and the digest seq as a write-once key.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoAuditBatchLedger } from '../../shared/adapters/dynamo/audit-ledger';
import { createDocumentClient } from '../../shared/adapters/dynamo/client';
import { keys } from '../../shared/adapters/dynamo/keys';
import { ensureTable } from '../../shared/adapters/dynamo/table-admin';
import { batchHash, buildDigest, DIGEST_GENESIS, recordKey, signDigest } from '../../shared/domain/audit-digest';
import { ConflictError, InternalError } from '../../shared/domain/errors';
import type { AuditBatchEntry, DigestSigner } from '../../shared/domain/ingest-ports';

const tableName = `it-ledger-${randomUUID()}`;
const db = createDocumentClient({ endpoint: inject('dynamoEndpoint') });
const ledger = new DynamoAuditBatchLedger(db, tableName);
const fakeSigner: DigestSigner = { keyId: 'test', sign: async () => new Uint8Array([1, 2, 3]), publicKey: async () => new Uint8Array() };

function entries(count: number, tenant = randomUUID()): AuditBatchEntry[] {
  return Array.from({ length: count }, (_, i) => {
    const id = randomUUID();
    const k = keys.tenantAudit(tenant, `2030-01-01T00:00:${String(i % 60).padStart(2, '0')}.000Z`, id);
    return { pk: k.PK, sk: k.SK, id, hash: (i.toString(16) + 'a'.repeat(64)).slice(0, 64) };
  });
}

beforeAll(async () => {
  await ensureTable(new DynamoDBClient({ endpoint: inject('dynamoEndpoint'), region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }), tableName);
});
afterAll(() => db.destroy());

describe('DynamoAuditBatchLedger', () => {
  it('FR-LOG-001: a batch is recorded once with its hash; the same batch again is a no-op, different entries under its id a conflict', async () => {
    const batch = { batchId: randomUUID(), deliveredAt: '2030-01-01T00:01:00.000Z', entries: entries(3) };
    await ledger.recordBatch(batch);
    await ledger.recordBatch(batch);
    expect(await ledger.getBatch(batch.deliveredAt, batch.batchId)).toEqual(batch);
    const [item] = (await db.send(new QueryCommand({ TableName: tableName, KeyConditionExpression: 'PK = :pk AND SK = :sk', ExpressionAttributeValues: { ':pk': keys.auditBatchPartition, ':sk': keys.auditBatch(batch.deliveredAt, batch.batchId).SK } }))).Items ?? [];
    expect(item).toMatchObject({ hash: batchHash(batch.entries), recordCount: 3, parts: 1 });
    await expect(ledger.recordBatch({ ...batch, entries: batch.entries.slice(1) })).rejects.toBeInstanceOf(ConflictError);
    await expect(ledger.recordBatch({ ...batch, batchId: 'a#b' })).rejects.toBeInstanceOf(InternalError);
    await expect(ledger.recordBatch({ ...batch, deliveredAt: '2030-01-01T00:01:00Z' })).rejects.toBeInstanceOf(InternalError);
  });

  it('FR-LOG-001: a batch of 5,000 records is split into parts under 400 KB and read back whole, in order; a lost part shows', async () => {
    const batch = { batchId: randomUUID(), deliveredAt: '2030-01-01T00:02:00.000Z', entries: entries(5000) };
    await ledger.recordBatch(batch);
    const items = (await db.send(new QueryCommand({ TableName: tableName, KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)', ExpressionAttributeValues: { ':pk': keys.auditBatchPartition, ':sk': keys.auditBatch(batch.deliveredAt, batch.batchId).SK } }))).Items ?? [];
    expect(items.length).toBeGreaterThan(1);
    for (const i of items) expect(Buffer.byteLength(JSON.stringify(i))).toBeLessThan(400_000);
    const back = await ledger.getBatch(batch.deliveredAt, batch.batchId);
    expect(back?.entries).toEqual(batch.entries);
    await ledger.recordBatch(batch);

    const part = items.find((i) => i['entity'] === 'AuditBatchPart')!;
    await db.send(new DeleteCommand({ TableName: tableName, Key: { PK: part['PK'], SK: part['SK'] } }));
    expect(batchHash((await ledger.getBatch(batch.deliveredAt, batch.batchId))!.entries)).not.toBe(batchHash(batch.entries));
  });

  it('FR-LOG-001: batches are listed by delivery time, (after, until], without their entries', async () => {
    const ids = ['2030-02-01T00:00:00.000Z', '2030-02-01T00:00:01.000Z', '2030-02-01T00:00:02.000Z'].map((deliveredAt) => ({ batchId: randomUUID(), deliveredAt, entries: entries(1) }));
    for (const b of ids) await ledger.recordBatch(b);
    const found = await ledger.batchesDeliveredIn('2030-02-01T00:00:00.000Z', '2030-02-01T00:00:01.000Z', 10);
    expect(found).toEqual([{ batchId: ids[1]!.batchId, deliveredAt: ids[1]!.deliveredAt, hash: batchHash(ids[1]!.entries), recordCount: 1 }]);
    expect(await ledger.batchesDeliveredIn('2030-02-01T00:00:00.000Z', '2030-02-01T00:00:02.000Z', 1)).toHaveLength(1);
    expect(await ledger.batchesDeliveredIn('2030-02-01T00:00:02.000Z', '2030-02-01T00:00:02.000Z', 10)).toEqual([]);
  });

  it('CON-SEC-002: a digest seq is written once; the latest and a range come back in seq order', async () => {
    const d1 = await signDigest(buildDigest({ seq: 1, region: 'local', periodStart: DIGEST_GENESIS, periodEnd: '2030-01-01T00:00:00.000Z', previous: null, batches: [], keyId: 'test' }), fakeSigner);
    const d2 = await signDigest(buildDigest({ seq: 2, region: 'local', periodStart: '2030-01-01T00:00:00.000Z', periodEnd: '2030-01-01T00:15:00.000Z', previous: d1, batches: [], keyId: 'test' }), fakeSigner);
    await ledger.putDigest(d1);
    await ledger.putDigest(d2);
    await expect(ledger.putDigest(d2)).rejects.toBeInstanceOf(ConflictError);
    expect(await ledger.latestDigest()).toEqual(d2);
    expect(await ledger.getDigest(1)).toEqual(d1);
    expect(await ledger.listDigests(1, 10)).toEqual([d1, d2]);
    expect(await ledger.listDigests(2, 10)).toEqual([d2]);
  });

  it('FR-LOG-001: stored records come back without table mechanics; absent keys are absent', async () => {
    const [e] = entries(1) as [AuditBatchEntry];
    const out = await ledger.storedRecords([e, e]);
    expect(out.size).toBe(0);
    expect(out.get(recordKey(e.pk, e.sk))).toBeUndefined();
  });
});
