/**
 * The ingestion consumers (issue #6; FR-BILL-001, FR-LOG-001/003): an SQS batch in, each record stored
 * once, the stored records forwarded to the archive, and — for audit — the batch entered in the ledger
 * that the signed digests chain (shared/domain/audit-digest.ts).
 *
 * Failure model (partial batch responses):
 * - a message that cannot be parsed is reported as failed; SQS redelivers it until maxReceiveCount and
 *   then moves it to the DLQ (an alarm watches its depth). The other messages of the batch are stored.
 * - a store error fails that message only; its records already stored are skipped on redelivery by the
 *   conditional writes, so nothing is doubled.
 * - a ledger or archive error fails every message whose records it covered: they are redelivered, stored
 *   as duplicates (no-ops), and archived again. The archive is therefore at-least-once (readers dedupe by
 *   id); the table — what the APIs serve — is exactly-once.
 */
import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ARCHIVE_LAYOUT } from '../config/constants';
import type { Container } from '../composition';
import type { AuditRecord } from '../domain/audit';
import { auditRecordHash } from '../domain/audit-chain';
import type { ArchivedRecord, AuditBatchEntry, BillingEvent, QueueMessage } from '../domain/ingest-ports';
import type { StoreOutcome } from '../domain/billing';
import { parseQueueMessage, PoisonMessageError, utcDay } from '../domain/ingestion';
import { toAuditItem } from '../adapters/dynamo/codecs';
import { errorFields } from '../http/logger';

type Deps = Pick<Container, 'records' | 'ingest' | 'log' | 'clock' | 'tenants'>;

export interface ConsumeResult extends SQSBatchResponse {
  readonly stored: number;
  readonly duplicates: number;
  readonly conflicts: number;
  /** Records of purged tenants that were dropped (see `routeForPurged`). */
  readonly discarded: number;
}

/** Purged is for ever: once seen, a tenant is not looked up again by this environment. */
const purgedTenants = new Set<string>();
const PURGED_CACHE_MAX = 10_000;

/**
 * FR-OPS-002: a purged tenant's partition stays empty. Records accepted just before the purge (or while
 * the API's one-second enablement cache still served the tenant) may reach the consumer after the
 * purge's tombstone: they must not recreate the partition or its archive objects. Returns, per distinct
 * tenant of the batch, whether it is purged (tombstone written at the purge's start, consistent read).
 */
async function purgedAmong(c: Deps, tenantIds: Iterable<string | null>, checked: Map<string, boolean>): Promise<Set<string>> {
  const out = new Set<string>();
  for (const id of new Set(tenantIds)) {
    if (id === null) continue;
    if (purgedTenants.has(id)) {
      out.add(id);
      continue;
    }
    // Once per tenant per batch: the messages of one batch are stored within moments of each other.
    let purged = checked.get(id);
    if (purged === undefined) {
      purged = await c.tenants.isPurged(id);
      checked.set(id, purged);
    }
    if (purged) {
      if (purgedTenants.size >= PURGED_CACHE_MAX) purgedTenants.clear();
      purgedTenants.add(id);
      out.add(id);
    }
  }
  return out;
}

/**
 * What happens to an audit record whose tenant is purged: an application's event is the tenant's data
 * and goes with it (dropped); the control plane's own record (an action or a denial, FR-LOG-003) is kept
 * in the platform log, naming the tenant it was about.
 */
export function routeForPurged(r: AuditRecord): AuditRecord | null {
  if (typeof r.metadata['source'] === 'string' && r.metadata['source'].startsWith('app:')) return null;
  return { ...r, tenantId: null, metadata: { ...r.metadata, purgedTenantId: r.tenantId } };
}

/**
 * One consumer run, whatever the kind: parse and store each message on its own (a failure fails that
 * message only), then hand everything stored or redelivered — never a record that lost its key to a
 * different one — to `afterStore` (ledger, archive); if that fails, every such message is redelivered.
 */
async function consume<T>(
  c: Deps,
  event: SQSEvent,
  kind: 'audit' | 'billing',
  select: (message: QueueMessage, checked: Map<string, boolean>) => Promise<{ items: readonly T[]; discarded: number }>,
  store: (items: readonly T[]) => Promise<readonly StoreOutcome[]>,
  afterStore: (items: readonly T[]) => Promise<void>,
): Promise<ConsumeResult> {
  const failed = new Set<string>();
  const delivered: { messageId: string; items: readonly T[] }[] = [];
  const counts: Record<StoreOutcome, number> = { stored: 0, duplicate: 0, conflict: 0 };
  let discarded = 0;
  const checked = new Map<string, boolean>();
  for (const msg of event.Records) {
    try {
      const m = parseQueueMessage(msg.body);
      if (m.kind !== kind) throw new PoisonMessageError(`a ${m.kind} message on the ${kind} queue`);
      const selected = await select(m, checked);
      discarded += selected.discarded;
      const items = selected.items;
      const outcomes = await store(items);
      for (const o of outcomes) counts[o] += 1;
      delivered.push({ messageId: msg.messageId, items: items.filter((_, i) => outcomes[i] !== 'conflict') });
    } catch (err) {
      failed.add(msg.messageId);
      c.log.error(err instanceof PoisonMessageError ? `poison message on the ${kind} queue` : `storing a ${kind} message failed`, { messageId: msg.messageId, ...errorFields(err) });
    }
  }
  const items = delivered.flatMap((d) => d.items);
  if (items.length > 0) {
    try {
      await afterStore(items);
    } catch (err) {
      for (const d of delivered) failed.add(d.messageId);
      c.log.error('ledger or archive write failed; the batch is redelivered', { kind, messages: delivered.length, ...errorFields(err) });
    }
  }
  if (discarded > 0) c.log.warn(`${kind} records of purged tenants dropped`, { discarded });
  c.log.info(`${kind} batch consumed`, { messages: event.Records.length, ...counts, discarded, failed: failed.size });
  return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })), stored: counts.stored, duplicates: counts.duplicate, conflicts: counts.conflict, discarded };
}

export function consumeAuditBatch(c: Deps, event: SQSEvent): Promise<ConsumeResult> {
  return consume<AuditRecord>(
    c,
    event,
    'audit',
    async (m, checked) => {
      const records = m.kind === 'audit' ? m.records : [];
      const purged = await purgedAmong(c, records.map((r) => r.tenantId), checked);
      if (purged.size === 0) return { items: records, discarded: 0 };
      const routed = records.map((r) => (r.tenantId !== null && purged.has(r.tenantId) ? routeForPurged(r) : r));
      const items = routed.filter((r): r is AuditRecord => r !== null);
      return { items, discarded: records.length - items.length };
    },
    (records) => c.records.putAuditRecords(records),
    async (records) => {
      // A redelivered record is entered and archived again: the earlier attempt may have failed before either.
      const entries: AuditBatchEntry[] = records.map((r) => {
        const k = toAuditItem(r);
        return { pk: String(k['PK']), sk: String(k['SK']), id: r.id, hash: auditRecordHash(r) };
      });
      await c.ingest.ledger.recordBatch({ batchId: randomUUID(), deliveredAt: c.clock.now().toISOString(), entries });
      await c.ingest.archives.audit.put(records.map((r): ArchivedRecord => ({ partitionTenant: r.tenantId ?? ARCHIVE_LAYOUT.platformTenant, partitionDate: utcDay(r.timestamp), record: r })));
    },
  );
}

export function consumeBillingBatch(c: Deps, event: SQSEvent): Promise<ConsumeResult> {
  return consume<BillingEvent>(
    c,
    event,
    'billing',
    async (m, checked) => {
      const events = m.kind === 'billing' ? m.events : [];
      const purged = await purgedAmong(c, events.map((e) => e.tenantId), checked);
      // A purged tenant's usage is not billed any more, and its partition stays empty.
      const items = purged.size === 0 ? events : events.filter((e) => !purged.has(e.tenantId));
      return { items, discarded: events.length - items.length };
    },
    (events) => c.records.putBillingEvents(events, c.clock.now()),
    // A reused idempotency key is not an event (Stripe ignores it too): not stored, not archived.
    (events) => c.ingest.archives.billing.put(events.map((e): ArchivedRecord => ({ partitionTenant: e.tenantId, partitionDate: utcDay(e.timestamp), record: e }))),
  );
}
