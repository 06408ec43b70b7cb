/**
 * The audit batch ledger and the signed digests (issue #6, ADR-0008) in the single table.
 *
 *   PLATFORM#AUDITBATCH  BATCH#<deliveredAt>#<batchId>          one item per delivered batch: batch hash,
 *                                                               record count, and its entries as lines
 *                                                               `pk\tsk\tid\thash` (compact: no attribute
 *                                                               names per entry)
 *                        BATCH#<deliveredAt>#<batchId>#P0001…   further parts when the lines exceed
 *                                                               PART_BYTES (items stay well under 400 KB)
 *   PLATFORM#AUDITDIGEST DIGEST#<seq, 12 digits>                one item per digest: the exact signed
 *                                                               bytes, their hash and the signature
 *
 * Every write is a conditional put: a batch recorded twice (a retried consumer call) is accepted when
 * its content is the same and refused otherwise; two digest runs cannot both write the same seq.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { batchHash, isHashableEntry, recordKey, type AuditLedgerStore, type DigestBatchRef, type SignedDigest } from '../../domain/audit-digest';
import { ConflictError, InternalError } from '../../domain/errors';
import type { AuditBatch, AuditBatchEntry } from '../../domain/ingest-ports';
import { queryAll } from './batch';
import { translateDynamoError } from './errors';
import { keys, prefixEnd, type ItemKey } from './keys';

const ENTITY = { batch: 'AuditBatch', part: 'AuditBatchPart', digest: 'AuditDigest' } as const;

/** Bytes of entry lines per item: with ~210-byte lines that is ~1,400 entries, far below 400 KB. */
const PART_BYTES = 300_000;
/** BatchGetItem's limit per call. */
const BATCH_GET_LIMIT = 100;
const MAX_ATTEMPTS = 8;

/**
 * Batch ids sort inside the sort key and bound range queries with '~': printable ASCII below '~' and no
 * '#' (the part suffix's separator) keeps both exact.
 */
const BATCH_ID = /^[A-Za-z0-9._:-]{1,200}$/;
/** Sorts after every batch id at a delivery time (and after their parts). */
const AFTER_ANY_BATCH_ID = '~';

/** Attributes of an audit item that are table mechanics, not the record (the record hash does not cover them). */
const NON_RECORD_ATTRIBUTES = new Set(['PK', 'SK', 'entity', 'ttl', 'GSI1PK', 'GSI1SK']);

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const batchItem = z.object({
  entity: z.literal(ENTITY.batch),
  batchId: z.string(),
  deliveredAt: z.string(),
  hash: hex64,
  recordCount: z.int().min(0),
  parts: z.int().min(1),
  entries: z.array(z.string()),
});
const batchRefItem = batchItem.omit({ entries: true, parts: true });
const partItem = z.object({ entity: z.literal(ENTITY.part), batchId: z.string(), part: z.int().min(1), entries: z.array(z.string()) });
const digestItem = z.object({
  entity: z.literal(ENTITY.digest),
  seq: z.int().min(1),
  document: z.string(),
  hash: hex64,
  signature: z.string(),
  keyId: z.string(),
});

function decode<T>(schema: z.ZodType<T>, item: unknown, what: string): T {
  const parsed = schema.safeParse(item);
  if (!parsed.success) throw new InternalError(`corrupt ${what} item: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  return parsed.data;
}

function line(e: AuditBatchEntry): string {
  return `${e.pk}\t${e.sk}\t${e.id}\t${e.hash}`;
}

function parseLine(text: string): AuditBatchEntry {
  const [pk, sk, id, hash, ...rest] = text.split('\t');
  // A line that does not split into four is kept recognisably wrong: the batch hash then shows the damage.
  if (pk === undefined || sk === undefined || id === undefined || hash === undefined || rest.length > 0) return { pk: text, sk: '', id: '', hash: '' };
  return { pk, sk, id, hash };
}

/** Splits the lines into parts of at most PART_BYTES (at least one part, possibly empty). */
function split(lines: readonly string[]): string[][] {
  const parts: string[][] = [[]];
  let bytes = 0;
  for (const l of lines) {
    const size = Buffer.byteLength(l, 'utf8') + 4;
    if (bytes + size > PART_BYTES && parts[parts.length - 1]!.length > 0) {
      parts.push([]);
      bytes = 0;
    }
    parts[parts.length - 1]!.push(l);
    bytes += size;
  }
  return parts;
}

function partKey(deliveredAt: string, batchId: string, part: number): ItemKey {
  return part === 0 ? keys.auditBatch(deliveredAt, batchId) : keys.auditBatchPart(deliveredAt, batchId, part);
}

export class DynamoAuditBatchLedger implements AuditLedgerStore {
  constructor(
    readonly db: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  async recordBatch(batch: AuditBatch): Promise<void> {
    if (!BATCH_ID.test(batch.batchId)) throw new InternalError(`audit batch id ${JSON.stringify(batch.batchId)} is not ${BATCH_ID.source}`);
    // Range reads compare delivery times as strings: only one spelling (toISOString's) keeps that exact.
    const t = Date.parse(batch.deliveredAt);
    if (Number.isNaN(t) || new Date(t).toISOString() !== batch.deliveredAt) throw new InternalError(`audit batch ${batch.batchId}: deliveredAt ${batch.deliveredAt} is not an ISO 8601 UTC time with milliseconds`);
    const bad = batch.entries.find((e) => !isHashableEntry(e));
    if (bad) throw new InternalError(`audit batch ${batch.batchId}: entry ${JSON.stringify(bad.id)} has a tab or newline in a field or no sha256 hash`);
    const hash = batchHash(batch.entries);
    const parts = split(batch.entries.map(line));
    // Parts first, the batch item last: readers see a batch only once all of it is there.
    for (let i = 1; i < parts.length; i++) {
      await this.putOnce({ ...partKey(batch.deliveredAt, batch.batchId, i), entity: ENTITY.part, batchId: batch.batchId, part: i, entries: parts[i] }, (old) => decode(partItem, old, 'audit batch part').entries.join('\n') === parts[i]!.join('\n'));
    }
    await this.putOnce(
      { ...partKey(batch.deliveredAt, batch.batchId, 0), entity: ENTITY.batch, batchId: batch.batchId, deliveredAt: batch.deliveredAt, hash, recordCount: batch.entries.length, parts: parts.length, entries: parts[0] },
      (old) => decode(batchItem, old, 'audit batch').hash === hash,
    );
  }

  async batchesDeliveredIn(afterExclusive: string, untilInclusive: string, limit: number): Promise<DigestBatchRef[]> {
    if (untilInclusive <= afterExclusive) return [];
    try {
      const items = await queryAll(
        this.db,
        {
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND SK BETWEEN :lo AND :hi',
          FilterExpression: '#entity = :batch',
          // The entries stay in the table: the digest needs only each batch's hash and count.
          ProjectionExpression: '#entity, batchId, deliveredAt, #hash, recordCount',
          ExpressionAttributeNames: { '#entity': 'entity', '#hash': 'hash' },
          ExpressionAttributeValues: {
            ':pk': keys.auditBatchPartition,
            ':lo': keys.auditBatch(afterExclusive, AFTER_ANY_BATCH_ID).SK,
            ':hi': keys.auditBatch(untilInclusive, AFTER_ANY_BATCH_ID).SK,
            ':batch': ENTITY.batch,
          },
          ConsistentRead: true,
        },
        limit,
      );
      return items.map((i) => {
        const { batchId, deliveredAt, hash, recordCount } = decode(batchRefItem, i, 'audit batch');
        return { batchId, deliveredAt, hash, recordCount };
      });
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  async getBatch(deliveredAt: string, batchId: string): Promise<AuditBatch | undefined> {
    let items: Record<string, unknown>[];
    try {
      items = await queryAll(this.db, {
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND SK BETWEEN :sk AND :skEnd',
        FilterExpression: 'batchId = :id',
        ExpressionAttributeValues: { ':pk': keys.auditBatchPartition, ':sk': keys.auditBatch(deliveredAt, batchId).SK, ':skEnd': prefixEnd(keys.auditBatch(deliveredAt, batchId).SK), ':id': batchId },
        ConsistentRead: true,
      });
    } catch (err) {
      throw translateDynamoError(err);
    }
    const main = items.find((i) => i['entity'] === ENTITY.batch);
    if (!main) return undefined;
    const head = decode(batchItem, main, 'audit batch');
    const lines = [...head.entries];
    for (let p = 1; p < head.parts; p++) {
      const part = items.find((i) => i['entity'] === ENTITY.part && i['part'] === p);
      // A lost part is reported by the verifier as an altered batch (the hash no longer matches).
      if (!part) continue;
      lines.push(...decode(partItem, part, 'audit batch part').entries);
    }
    return { batchId: head.batchId, deliveredAt: head.deliveredAt, entries: lines.map(parseLine) };
  }

  async latestDigest(): Promise<SignedDigest | undefined> {
    try {
      const out = await this.db.send(
        new QueryCommand({ TableName: this.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': keys.auditDigestPartition }, ScanIndexForward: false, Limit: 1, ConsistentRead: true }),
      );
      const item = out.Items?.[0];
      return item ? this.decodeDigest(item) : undefined;
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  async getDigest(seq: number): Promise<SignedDigest | undefined> {
    try {
      const out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: keys.auditDigest(seq), ConsistentRead: true }));
      return out.Item ? this.decodeDigest(out.Item) : undefined;
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  async listDigests(fromSeq: number, limit: number): Promise<SignedDigest[]> {
    try {
      const items = await queryAll(
        this.db,
        {
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND SK >= :from',
          ExpressionAttributeValues: { ':pk': keys.auditDigestPartition, ':from': keys.auditDigest(Math.max(1, fromSeq)).SK },
          Limit: limit,
          ConsistentRead: true,
        },
        limit,
      );
      return items.map((i) => this.decodeDigest(i));
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  async putDigest(d: SignedDigest): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.auditDigest(d.seq), entity: ENTITY.digest, seq: d.seq, document: d.document, hash: d.hash, signature: d.signature, keyId: d.keyId },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
    } catch (err) {
      throw translateDynamoError(err, [{ name: 'DigestExists', detail: `audit digest ${d.seq} was written by another run` }]);
    }
  }

  async storedRecords(recordKeys: readonly { readonly pk: string; readonly sk: string }[]): Promise<Map<string, Record<string, unknown>>> {
    const unique = [...new Map(recordKeys.map((k) => [recordKey(k.pk, k.sk), { PK: k.pk, SK: k.sk }])).values()];
    const found = new Map<string, Record<string, unknown>>();
    try {
      for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) {
        let pending: Record<string, unknown>[] = unique.slice(i, i + BATCH_GET_LIMIT);
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt >= MAX_ATTEMPTS) throw new InternalError(`batch get left ${pending.length} audit records unprocessed`);
          if (attempt > 0) await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
          const out = await this.db.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } } }));
          for (const item of out.Responses?.[this.tableName] ?? []) {
            const record = Object.fromEntries(Object.entries(item).filter(([k]) => !NON_RECORD_ATTRIBUTES.has(k)));
            found.set(recordKey(String(item['PK']), String(item['SK'])), record);
          }
          pending = out.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
        }
      }
    } catch (err) {
      throw translateDynamoError(err);
    }
    return found;
  }

  private decodeDigest(item: Record<string, unknown>): SignedDigest {
    const { seq, document, hash, signature, keyId } = decode(digestItem, item, 'audit digest');
    return { seq, document, hash, signature, keyId };
  }

  /** Conditional put; when the item exists, `same(old)` decides between "already recorded" and a conflict. */
  private async putOnce(item: Record<string, unknown>, same: (old: Record<string, unknown>) => boolean): Promise<void> {
    try {
      await this.db.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(PK)' }));
      return;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw translateDynamoError(err);
    }
    let old: Record<string, unknown> | undefined;
    try {
      old = (await this.db.send(new GetCommand({ TableName: this.tableName, Key: { PK: item['PK'], SK: item['SK'] }, ConsistentRead: true }))).Item;
    } catch (err) {
      throw translateDynamoError(err);
    }
    if (old && same(old)) return;
    throw new ConflictError(`audit batch ${String(item['batchId'])} was recorded before with different entries`);
  }
}
