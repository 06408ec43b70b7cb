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

type Deps = Pick<Container, 'records' | 'ingest' | 'log' | 'clock'>;

export interface ConsumeResult extends SQSBatchResponse {
  readonly stored: number;
  readonly duplicates: number;
  readonly conflicts: number;
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
  store: (message: QueueMessage) => Promise<{ items: readonly T[]; outcomes: readonly StoreOutcome[] }>,
  afterStore: (items: readonly T[]) => Promise<void>,
): Promise<ConsumeResult> {
  const failed = new Set<string>();
  const delivered: { messageId: string; items: readonly T[] }[] = [];
  const counts: Record<StoreOutcome, number> = { stored: 0, duplicate: 0, conflict: 0 };
  for (const msg of event.Records) {
    try {
      const m = parseQueueMessage(msg.body);
      if (m.kind !== kind) throw new PoisonMessageError(`a ${m.kind} message on the ${kind} queue`);
      const { items, outcomes } = await store(m);
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
  c.log.info(`${kind} batch consumed`, { messages: event.Records.length, ...counts, failed: failed.size });
  return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })), stored: counts.stored, duplicates: counts.duplicate, conflicts: counts.conflict };
}

export function consumeAuditBatch(c: Deps, event: SQSEvent): Promise<ConsumeResult> {
  return consume<AuditRecord>(
    c,
    event,
    'audit',
    async (m) => {
      const items = m.kind === 'audit' ? m.records : [];
      return { items, outcomes: await c.records.putAuditRecords(items) };
    },
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
    async (m) => {
      const items = m.kind === 'billing' ? m.events : [];
      return { items, outcomes: await c.records.putBillingEvents(items, c.clock.now()) };
    },
    // A reused idempotency key is not an event (Stripe ignores it too): not stored, not archived.
    (events) => c.ingest.archives.billing.put(events.map((e): ArchivedRecord => ({ partitionTenant: e.tenantId, partitionDate: utcDay(e.timestamp), record: e }))),
  );
}
