import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { NumberValue, PutCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { INGEST_LIMITS, RETENTION } from '../../config/constants';
import type { AuditRecord } from '../../domain/audit';
import type { BillingEvent } from '../../domain/ingest-ports';
import { utcDay } from '../../domain/ingestion';
import type { BillingPage, BillingQuery, BillingSums, RecordStore, StoreOutcome } from '../../domain/billing';
import { InternalError } from '../../domain/errors';
import { auditRecordHash } from '../../domain/audit-chain';
import { canonicalJson } from '../../domain/canonical-json';
import { decimalSum } from '../../domain/decimal';
import { decodeAudit, toAuditItem } from './codecs';
import { translateDynamoError } from './errors';
import { keys } from './keys';

const DAY_MS = 86_400_000;
/** Concurrent writes per consumer invocation: enough to hide latency, far below a partition's limits. */
const WRITE_CONCURRENCY = 16;

function ttlAfter(iso: string, days: number): number {
  return Math.floor((Date.parse(iso) + days * DAY_MS) / 1000);
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}

const MAX_CONFLICT_ATTEMPTS = 8;
/** Events per billing transaction: two items each plus the day sum, within DynamoDB's 100 items. */
const BILLING_CHUNK_EVENTS = 49;

/**
 * A day-sum group's events in order, cut into transactions of at most BILLING_CHUNK_EVENTS. An event
 * whose keys already occur in the chunk (the same id twice in one batch) starts the next one: one
 * transaction cannot touch an item twice, and the second must see the first stored.
 */
function billingChunks(events: readonly BillingEvent[], indexes: readonly number[]): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let seen = new Set<string>();
  for (const i of indexes) {
    const e = events[i]!;
    const ids = [`${e.appId}|${e.id}`, `${e.tenantId}|${e.timestamp}|${e.appId}|${e.id}`];
    if (current.length >= BILLING_CHUNK_EVENTS || ids.some((k) => seen.has(k))) {
      chunks.push(current);
      current = [];
      seen = new Set();
    }
    current.push(i);
    for (const k of ids) seen.add(k);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function isTransactionConflict(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'TransactionConflictException') return true;
  if (err.name !== 'TransactionCanceledException') return false;
  return ((err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).some((r) => r.Code === 'TransactionConflict');
}

type CancellationReason = { Code?: string; Item?: Record<string, unknown> };

/** The reasons of a transaction cancelled only by conditions (a duplicate), else undefined (a throttle is not benign). */
function conditionReasons(err: unknown): CancellationReason[] | undefined {
  if (!(err instanceof Error) || err.name !== 'TransactionCanceledException') return undefined;
  const reasons = (err as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? [];
  const onlyConditions = reasons.some((r) => r.Code === 'ConditionalCheckFailed') && reasons.every((r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'None' || r.Code === undefined);
  return onlyConditions ? reasons : undefined;
}

/** The item a failed condition returns (ALL_OLD) is in wire format even through the document client. */
function oldItem(item: unknown): Record<string, unknown> | undefined {
  if (item === undefined || item === null || typeof item !== 'object') return undefined;
  return unmarshall(item as Record<string, AttributeValue>);
}

const sameAuditContent = (stored: Record<string, unknown> | undefined, r: AuditRecord): boolean =>
  stored !== undefined && auditRecordHash(decodeAudit(stored)) === auditRecordHash(r);

/**
 * The ingestion consumers' writes (issue #6). Each is conditional on the record's key, so a message
 * delivered twice — a Lambda retry, an SQS redelivery, a consumer killed before it acknowledged — stores
 * a record once (FR-BILL-001, FR-LOG-001). Items carry a TTL from RETENTION (a backstop behind the
 * retention job, which deletes and audits first).
 */
export class DynamoIngestStore implements RecordStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Stores each record unless a record with its key exists. Returns what happened to each, in order. */
  async putAuditRecords(records: readonly AuditRecord[]): Promise<StoreOutcome[]> {
    return mapLimit(records, WRITE_CONCURRENCY, async (r) => {
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...toAuditItem(r), ttl: ttlAfter(r.timestamp, RETENTION.auditDays + RETENTION.ttlGraceDays) },
            ConditionExpression: 'attribute_not_exists(PK)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return 'stored' as const;
      } catch (err) {
        if (err instanceof Error && err.name === 'ConditionalCheckFailedException') {
          // The key is taken: by this very record (a redelivery) or — only if a caller reused an id with
          // the same timestamp — by another one, which stays as it was (records are immutable).
          return sameAuditContent(oldItem((err as { Item?: unknown }).Item), r) ? ('duplicate' as const) : ('conflict' as const);
        }
        throw translateDynamoError(err);
      }
    });
  }

  /**
   * One transaction per event: the event (in the tenant's partition, by timestamp), the application's
   * idempotency key, and the tenant's day sum for the type. If the key was seen — even with another
   * timestamp or tenant — nothing is written, so the sums never count a duplicate.
   */
  async putBillingEvents(events: readonly BillingEvent[], storedAt: Date): Promise<StoreOutcome[]> {
    const stored = storedAt.toISOString();
    // Events of one tenant, day and type share their day-sum item: transactions on one item conflict, so
    // those go one after another (and conflicts with other consumers are retried); groups run in parallel.
    const groups = new Map<string, number[]>();
    events.forEach((e, i) => {
      const k = `${e.tenantId}|${utcDay(e.timestamp)}|${e.type}`;
      const g = groups.get(k);
      if (g) g.push(i);
      else groups.set(k, [i]);
    });
    const outcomes: StoreOutcome[] = new Array<StoreOutcome>(events.length);
    await mapLimit([...groups.values()], WRITE_CONCURRENCY, async (indexes) => {
      for (const chunk of billingChunks(events, indexes)) {
        // The common case, new events: one transaction for the chunk. If any of them was seen before
        // (a redelivery, a reused id) the transaction writes nothing, and each event goes on its own.
        if (chunk.length > 1 && (await this.putBillingChunk(chunk.map((i) => events[i]!), stored))) {
          for (const i of chunk) outcomes[i] = 'stored';
          continue;
        }
        for (const i of chunk) outcomes[i] = await this.putBillingEvent(events[i]!, stored);
      }
    });
    return outcomes;
  }

  /**
   * Events sharing one day sum, in one transaction: each event and its idempotency key, conditional, and
   * one ADD of their exact decimal total to the sum. True when stored; false when a condition failed
   * (nothing was written) or DynamoDB refused the transaction as a whole (the caller then isolates).
   */
  private async putBillingChunk(chunk: readonly BillingEvent[], stored: string): Promise<boolean> {
    const first = chunk[0]!;
    const day = utcDay(first.timestamp);
    const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [];
    for (const e of chunk) {
      const eventKey = keys.billingEvent(e.tenantId, e.timestamp, e.appId, e.id);
      items.push(
        { Put: { TableName: this.tableName, Item: { ...eventKey, entity: 'BillingEvent', ...e, storedAt: stored, ttl: ttlAfter(e.timestamp, RETENTION.billingDays + RETENTION.ttlGraceDays) }, ConditionExpression: 'attribute_not_exists(PK)' } },
        { Put: { TableName: this.tableName, Item: { ...keys.billingIdempotency(e.appId, e.id), entity: 'BillingKey', tenantId: e.tenantId, eventSk: eventKey.SK, ttl: ttlAfter(stored, INGEST_LIMITS.idempotencyDays + 5) }, ConditionExpression: 'attribute_not_exists(PK)' } },
      );
    }
    items.push({
      Update: {
        TableName: this.tableName,
        Key: keys.billingDaySum(first.tenantId, day, first.type),
        UpdateExpression: 'SET entity = :entity, tenantId = :t, #day = :day, #type = :type, #ttl = :ttl ADD quantity :q, eventCount :n',
        ExpressionAttributeNames: { '#day': 'day', '#type': 'type', '#ttl': 'ttl' },
        ExpressionAttributeValues: {
          ':entity': 'BillingDaySum',
          ':t': first.tenantId,
          ':day': day,
          ':type': first.type,
          ':ttl': ttlAfter(first.timestamp, RETENTION.billingDays + RETENTION.ttlGraceDays),
          ':q': NumberValue.from(decimalSum(chunk.map((e) => e.quantity))),
          ':n': chunk.length,
        },
      },
    });
    for (let attempt = 1; ; attempt++) {
      try {
        await this.db.send(new TransactWriteCommand({ TransactItems: items }));
        return true;
      } catch (err) {
        if (isTransactionConflict(err) && attempt < MAX_CONFLICT_ATTEMPTS) {
          await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
          continue;
        }
        if (conditionReasons(err) !== undefined || isTransactionConflict(err)) return false;
        if (err instanceof Error && err.name === 'ValidationException') return false;
        throw translateDynamoError(err);
      }
    }
  }

  private async putBillingEvent(e: BillingEvent, stored: string): Promise<StoreOutcome> {
    for (let attempt = 1; ; attempt++) {
      const eventKey = keys.billingEvent(e.tenantId, e.timestamp, e.appId, e.id);
      try {
        await this.db.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: { ...eventKey, entity: 'BillingEvent', ...e, storedAt: stored, ttl: ttlAfter(e.timestamp, RETENTION.billingDays + RETENTION.ttlGraceDays) },
                  ConditionExpression: 'attribute_not_exists(PK)',
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                },
              },
              {
                Put: {
                  TableName: this.tableName,
                  Item: { ...keys.billingIdempotency(e.appId, e.id), entity: 'BillingKey', tenantId: e.tenantId, eventSk: eventKey.SK, ttl: ttlAfter(stored, INGEST_LIMITS.idempotencyDays + 5) },
                  ConditionExpression: 'attribute_not_exists(PK)',
                },
              },
              {
                Update: {
                  TableName: this.tableName,
                  Key: keys.billingDaySum(e.tenantId, utcDay(e.timestamp), e.type),
                  UpdateExpression: 'SET entity = :entity, tenantId = :t, #day = :day, #type = :type, #ttl = :ttl ADD quantity :q, eventCount :one',
                  ExpressionAttributeNames: { '#day': 'day', '#type': 'type', '#ttl': 'ttl' },
                  ExpressionAttributeValues: {
                    ':entity': 'BillingDaySum',
                    ':t': e.tenantId,
                    ':day': utcDay(e.timestamp),
                    ':type': e.type,
                    ':ttl': ttlAfter(e.timestamp, RETENTION.billingDays + RETENTION.ttlGraceDays),
                    ':q': e.quantity,
                    ':one': 1,
                  },
                },
              },
            ],
          }),
        );
        return 'stored' as const;
      } catch (err) {
        if (isTransactionConflict(err) && attempt < MAX_CONFLICT_ATTEMPTS) {
          // Another consumer is updating the same day sum: wait a little (jittered) and try again.
          await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
          continue;
        }
        const reasons = conditionReasons(err);
        if (reasons === undefined) throw translateDynamoError(err);
        // Ours (a redelivery) only if the event item under this exact key holds the same event.
        const existing = oldItem(reasons[0]?.Item);
        const same = existing !== undefined && existing['type'] === e.type && existing['quantity'] === e.quantity && canonicalJson(existing['metadata'] ?? {}) === canonicalJson(e.metadata);
        return same ? ('duplicate' as const) : ('conflict' as const);
      }
    }
  }

  async listBillingEvents(q: BillingQuery): Promise<BillingPage> {
    const pk = `TENANT#${q.tenantId}`;
    const values: Record<string, unknown> = { ':pk': pk, ':from': `BILL#${q.from}`, ':to': `BILL#${q.to}`, ':asOf': q.asOf };
    let filter = 'storedAt <= :asOf';
    if (q.storedAfter !== undefined) {
      filter += ' AND storedAt > :after';
      values[':after'] = q.storedAfter;
    }
    const items: (BillingEvent & { storedAt: string })[] = [];
    let start: Record<string, unknown> | undefined = q.afterSk !== undefined ? { PK: pk, SK: q.afterSk } : undefined;
    let lastSk: string | undefined;
    try {
      do {
        const out = await this.db.send(
          new QueryCommand({
            TableName: this.tableName,
            // BETWEEN is inclusive: `to` is exclusive, and '#' sorts after every timestamp character, so
            // BILL#<to> (no suffix) bounds the range just below events at exactly `to`.
            KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
            FilterExpression: filter,
            ExpressionAttributeValues: values,
            ConsistentRead: true,
            Limit: q.limit - items.length,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const it of out.Items ?? []) {
          items.push(decodeBillingEvent(it));
          lastSk = String(it['SK']);
        }
        start = out.LastEvaluatedKey;
        if (start) lastSk = String(start['SK']);
      } while (start !== undefined && items.length < q.limit);
    } catch (err) {
      throw translateDynamoError(err);
    }
    return { items, nextSk: start !== undefined && lastSk !== undefined ? lastSk : undefined };
  }

  async billingDaySums(tenantId: string, fromDay: string, toDayExclusive: string): Promise<BillingSums> {
    const sums: Record<string, { quantity: number; count: number }> = {};
    if (fromDay >= toDayExclusive) return sums;
    let start: Record<string, unknown> | undefined;
    try {
      do {
        const out = await this.db.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
            ExpressionAttributeValues: { ':pk': `TENANT#${tenantId}`, ':from': `BILLSUM#${fromDay}`, ':to': `BILLSUM#${toDayExclusive}` },
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const it of out.Items ?? []) {
          if (String(it['day']) >= toDayExclusive) continue;
          const type = String(it['type']);
          const s = (sums[type] ??= { quantity: 0, count: 0 });
          s.quantity += Number(it['quantity'] ?? 0);
          s.count += Number(it['eventCount'] ?? 0);
        }
        start = out.LastEvaluatedKey;
      } while (start !== undefined);
    } catch (err) {
      throw translateDynamoError(err);
    }
    return sums;
  }
}

function decodeBillingEvent(it: Record<string, unknown>): BillingEvent & { storedAt: string } {
  if (it['entity'] !== 'BillingEvent') throw new InternalError(`unexpected ${String(it['entity'])} item in the billing range`);
  return {
    id: String(it['id']),
    appId: String(it['appId']),
    tenantId: String(it['tenantId']),
    timestamp: String(it['timestamp']),
    type: String(it['type']),
    quantity: Number(it['quantity']),
    metadata: (it['metadata'] ?? {}) as Record<string, string>,
    receivedAt: String(it['receivedAt']),
    keyId: String(it['keyId']),
    storedAt: String(it['storedAt']),
  };
}
