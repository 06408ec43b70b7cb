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
import type { ArchivedRecord, AuditBatchEntry, BillingEvent } from '../domain/ingest-ports';
import { parseQueueMessage, PoisonMessageError, utcDay } from '../domain/ingestion';
import { toAuditItem } from '../adapters/dynamo/codecs';
import { errorFields } from '../http/logger';

type Deps = Pick<Container, 'records' | 'ingest' | 'log' | 'clock'>;

export interface ConsumeResult extends SQSBatchResponse {
  readonly stored: number;
  readonly duplicates: number;
  readonly conflicts: number;
}

export async function consumeAuditBatch(c: Deps, event: SQSEvent): Promise<ConsumeResult> {
  const store = c.records;
  const failed = new Set<string>();
  const delivered: { messageId: string; records: readonly AuditRecord[] }[] = [];
  let stored = 0;
  let duplicates = 0;
  let conflicts = 0;
  for (const msg of event.Records) {
    try {
      const m = parseQueueMessage(msg.body);
      if (m.kind !== 'audit') throw new PoisonMessageError(`a ${m.kind} message on the audit queue`);
      const outcomes = await store.putAuditRecords(m.records);
      stored += outcomes.filter((o) => o === 'stored').length;
      duplicates += outcomes.filter((o) => o === 'duplicate').length;
      conflicts += outcomes.filter((o) => o === 'conflict').length;
      // A redelivered record is entered and archived again (the earlier attempt may have failed before
      // either); a record that lost its key to a different one was not stored and is not ours to chain.
      delivered.push({ messageId: msg.messageId, records: m.records.filter((_, i) => outcomes[i] !== 'conflict') });
    } catch (err) {
      failed.add(msg.messageId);
      c.log.error(err instanceof PoisonMessageError ? 'poison message on the audit queue' : 'storing an audit message failed', { messageId: msg.messageId, ...errorFields(err) });
    }
  }
  const records = delivered.flatMap((d) => d.records);
  if (records.length > 0) {
    try {
      const entries: AuditBatchEntry[] = records.map((r) => {
        const k = toAuditItem(r);
        return { pk: String(k['PK']), sk: String(k['SK']), id: r.id, hash: auditRecordHash(r) };
      });
      await c.ingest.ledger.recordBatch({ batchId: randomUUID(), deliveredAt: c.clock.now().toISOString(), entries });
      await c.ingest.archives.audit.put(
        records.map((r): ArchivedRecord => ({ partitionTenant: r.tenantId ?? ARCHIVE_LAYOUT.platformTenant, partitionDate: utcDay(r.timestamp), record: r })),
      );
    } catch (err) {
      for (const d of delivered) failed.add(d.messageId);
      c.log.error('ledger or archive write failed; the batch is redelivered', { messages: delivered.length, ...errorFields(err) });
    }
  }
  c.log.info('audit batch consumed', { messages: event.Records.length, stored, duplicates, conflicts, failed: failed.size });
  return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })), stored, duplicates, conflicts };
}

export async function consumeBillingBatch(c: Deps, event: SQSEvent): Promise<ConsumeResult> {
  const store = c.records;
  const failed = new Set<string>();
  const delivered: { messageId: string; events: readonly BillingEvent[] }[] = [];
  let stored = 0;
  let duplicates = 0;
  let conflicts = 0;
  for (const msg of event.Records) {
    try {
      const m = parseQueueMessage(msg.body);
      if (m.kind !== 'billing') throw new PoisonMessageError(`a ${m.kind} message on the billing queue`);
      const outcomes = await store.putBillingEvents(m.events, c.clock.now());
      stored += outcomes.filter((o) => o === 'stored').length;
      duplicates += outcomes.filter((o) => o === 'duplicate').length;
      conflicts += outcomes.filter((o) => o === 'conflict').length;
      // A reused idempotency key is not an event (Stripe ignores it too): not stored, not archived.
      delivered.push({ messageId: msg.messageId, events: m.events.filter((_, i) => outcomes[i] !== 'conflict') });
    } catch (err) {
      failed.add(msg.messageId);
      c.log.error(err instanceof PoisonMessageError ? 'poison message on the billing queue' : 'storing a billing message failed', { messageId: msg.messageId, ...errorFields(err) });
    }
  }
  const events = delivered.flatMap((d) => d.events);
  if (events.length > 0) {
    try {
      await c.ingest.archives.billing.put(events.map((e): ArchivedRecord => ({ partitionTenant: e.tenantId, partitionDate: utcDay(e.timestamp), record: e })));
    } catch (err) {
      for (const d of delivered) failed.add(d.messageId);
      c.log.error('archive write failed; the batch is redelivered', { messages: delivered.length, ...errorFields(err) });
    }
  }
  c.log.info('billing batch consumed', { messages: event.Records.length, stored, duplicates, conflicts, failed: failed.size });
  return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })), stored, duplicates, conflicts };
}
