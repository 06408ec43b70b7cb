/**
 * Billing and audit ingestion (issue #6): what the APIs accept (API-BILL, API-LOG), how accepted events
 * become queue messages, and how a consumer reads them back. Pure: no AWS, no Lambda types.
 *
 * Validation is per item: a batch keeps its good items and reports the bad ones by index (as Stripe's and
 * Segment's batch APIs do), so one malformed event never costs a caller the other 499.
 */
import { z } from 'zod';
import { INGEST_LIMITS } from '../config/constants';
import type { AuditRecord } from './audit';
import type { BillingEvent, QueueMessage } from './ingest-ports';

/** Idempotency keys: what Stripe and Segment allow in practice, and safe inside a table sort key. */
const idempotencyKey = z
  .string()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .regex(/^[A-Za-z0-9._:-]+$/, 'may contain only letters, digits, ".", "_", ":" and "-"');

const timestamp = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' });

const metadata = z
  .record(z.string().min(1).max(64), z.string().max(500, 'values must be at most 500 characters'))
  .refine((m) => Object.keys(m).length <= 20, 'at most 20 keys')
  .optional();

/** API-BILL: Tenant ID, Timestamp, Event Type, Quantity — plus the idempotency key. */
export const billingEventInput = z.strictObject({
  id: idempotencyKey,
  tenantId: z.uuid('must be a tenant id (UUID)'),
  timestamp,
  type: z
    .string()
    .min(1)
    .max(64, 'must be at most 64 characters')
    .regex(/^[A-Za-z][A-Za-z0-9._:-]*$/, 'must start with a letter and contain only letters, digits, ".", "_", ":" and "-"'),
  quantity: z.number().finite().min(0, 'must not be negative').max(1e12, 'must be at most 10^12'),
  metadata,
});
export type BillingEventInput = z.infer<typeof billingEventInput>;

/** API-LOG: Timestamp, Actor ID, Event Type, Resource ID, Outcome, IP Address — optional metadata. */
export const auditEventInput = z.strictObject({
  /** Optional idempotency key: a client retrying a batch sends the same ids and nothing is doubled. */
  id: idempotencyKey.optional(),
  tenantId: z.uuid('must be a tenant id (UUID)'),
  timestamp,
  actorId: z.string().min(1).max(200),
  actorType: z.enum(['User', 'System']).default('User'),
  eventType: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z][A-Za-z0-9._:-]*$/, 'must start with a letter and contain only letters, digits, ".", "_", ":" and "-"'),
  resourceId: z.string().min(1).max(500),
  outcome: z.enum(['Success', 'Failure']),
  ipAddress: z.union([z.ipv4(), z.ipv6()], { message: 'must be an IPv4 or IPv6 address' }),
  metadata: z.record(z.string().min(1).max(64), z.unknown()).optional(),
});
export type AuditEventInput = z.infer<typeof auditEventInput>;

/** A batch body: `{ "events": [...] }`, or one event on its own. */
export const ingestBody = z.union([
  z.strictObject({ events: z.array(z.unknown()).min(1, 'must hold at least one event').max(INGEST_LIMITS.maxBatch, `must hold at most ${INGEST_LIMITS.maxBatch} events`) }),
  z.record(z.string(), z.unknown()).refine((o) => !('events' in o), 'events must be an array of 1 to 500 events'),
]);
export type IngestBody = z.infer<typeof ingestBody>;

export function batchItems(body: IngestBody): unknown[] {
  return 'events' in body && Array.isArray(body['events']) ? (body['events'] as unknown[]) : [body];
}

export interface ItemProblem {
  readonly index: number;
  /** The item's idempotency key when it had a readable one. */
  readonly id?: string;
  readonly code: 'ERR-VAL-400' | 'ERR-VAL-422' | 'ERR-AUTH-403' | 'ERR-RES-410';
  readonly errors: readonly { readonly field: string; readonly detail: string }[];
}

function zodProblems(index: number, raw: unknown, error: z.ZodError): ItemProblem {
  const id = typeof raw === 'object' && raw !== null && typeof (raw as Record<string, unknown>)['id'] === 'string' ? String((raw as Record<string, unknown>)['id']).slice(0, 100) : undefined;
  const errors = error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys' ? i.keys.map((k) => ({ field: k, detail: 'is not a recognised field' })) : [{ field: i.path.map(String).join('.') || '(event)', detail: i.message }],
  );
  return { index, ...(id !== undefined ? { id } : {}), code: 'ERR-VAL-400', errors };
}

/** Timestamps too far in the past or future are refused (Stripe: 35 days back, 5 minutes ahead). */
export function timestampProblem(ts: string, now: Date): string | undefined {
  const t = Date.parse(ts);
  if (t < now.getTime() - INGEST_LIMITS.maxAgeDays * 86_400_000) return `must be at most ${INGEST_LIMITS.maxAgeDays} days in the past`;
  if (t > now.getTime() + INGEST_LIMITS.maxFutureSeconds * 1000) return `must be at most ${INGEST_LIMITS.maxFutureSeconds} seconds in the future`;
  return undefined;
}

/** Whether the calling application may report for a tenant: the same rule as flag delivery. */
export type TenantAccess = 'ok' | 'not-enabled' | 'purged';

export interface ValidatedBatch<T> {
  readonly accepted: readonly { readonly index: number; readonly value: T }[];
  readonly rejected: readonly ItemProblem[];
}

async function validateItems<I extends { tenantId: string; timestamp: string; id?: string | undefined }, T>(
  raw: readonly unknown[],
  schema: z.ZodType<I>,
  now: Date,
  tenantAccess: (tenantId: string) => Promise<TenantAccess>,
  build: (input: I) => T,
): Promise<ValidatedBatch<T>> {
  const accepted: { index: number; value: T }[] = [];
  const rejected: ItemProblem[] = [];
  const access = new Map<string, Promise<TenantAccess>>();
  const seen = new Set<string>();
  for (const [index, item] of raw.entries()) {
    const parsed = schema.safeParse(item);
    if (!parsed.success) {
      rejected.push(zodProblems(index, item, parsed.error));
      continue;
    }
    const input = parsed.data;
    const idPart = input.id !== undefined ? { id: input.id } : {};
    const tsProblem = timestampProblem(input.timestamp, now);
    if (tsProblem) {
      rejected.push({ index, ...idPart, code: 'ERR-VAL-422', errors: [{ field: 'timestamp', detail: tsProblem }] });
      continue;
    }
    if (!access.has(input.tenantId)) access.set(input.tenantId, tenantAccess(input.tenantId));
    const a = await access.get(input.tenantId)!;
    if (a !== 'ok') {
      rejected.push({
        index,
        ...idPart,
        code: a === 'purged' ? 'ERR-RES-410' : 'ERR-AUTH-403',
        errors: [{ field: 'tenantId', detail: a === 'purged' ? 'the tenant has been permanently deleted' : 'the application is not enabled for this tenant' }],
      });
      continue;
    }
    // The same key twice in one batch: keep the first, as the consumer would.
    if (input.id !== undefined) {
      if (seen.has(input.id)) {
        rejected.push({ index, id: input.id, code: 'ERR-VAL-400', errors: [{ field: 'id', detail: 'repeats the id of an earlier event in this batch' }] });
        continue;
      }
      seen.add(input.id);
    }
    accepted.push({ index, value: build(input) });
  }
  return { accepted, rejected };
}

export interface IngestCaller {
  readonly appId: string;
  readonly keyId: string;
}

export function validateBillingBatch(raw: readonly unknown[], caller: IngestCaller, now: Date, tenantAccess: (tenantId: string) => Promise<TenantAccess>): Promise<ValidatedBatch<BillingEvent>> {
  return validateItems(raw, billingEventInput, now, tenantAccess, (e) => ({
    id: e.id,
    appId: caller.appId,
    tenantId: e.tenantId,
    timestamp: new Date(e.timestamp).toISOString(),
    type: e.type,
    quantity: e.quantity,
    metadata: e.metadata ?? {},
    receivedAt: now.toISOString(),
    keyId: caller.keyId,
  }));
}

/** App audit events become audit records of the tenant; the source application is in the metadata. */
export function validateAuditBatch(
  raw: readonly unknown[],
  caller: IngestCaller,
  now: Date,
  tenantAccess: (tenantId: string) => Promise<TenantAccess>,
  newId: () => string,
): Promise<ValidatedBatch<AuditRecord>> {
  return validateItems(raw, auditEventInput, now, tenantAccess, (e) => ({
    // A caller-supplied id is namespaced by application: two applications cannot collide or overwrite.
    id: e.id !== undefined ? `${caller.appId}:${e.id}` : newId(),
    timestamp: new Date(e.timestamp).toISOString(),
    tenantId: e.tenantId,
    actorId: e.actorId,
    actorType: e.actorType,
    action: e.eventType,
    resource: e.resourceId,
    outcome: e.outcome,
    metadata: { ...(e.metadata ?? {}), ip: e.ipAddress, source: `app:${caller.appId}`, keyId: caller.keyId, receivedAt: now.toISOString() },
  }));
}

/**
 * Packs items into queue messages of at most INGEST_LIMITS.maxMessageBytes of JSON (SQS allows 256 KiB),
 * keeping their order.
 */
export function packMessages<T>(items: readonly T[], wrap: (chunk: T[]) => QueueMessage, maxBytes: number = INGEST_LIMITS.maxMessageBytes): QueueMessage[] {
  const out: QueueMessage[] = [];
  let chunk: T[] = [];
  let size = 64; // envelope
  for (const item of items) {
    const n = Buffer.byteLength(JSON.stringify(item)) + 1;
    if (chunk.length > 0 && size + n > maxBytes) {
      out.push(wrap(chunk));
      chunk = [];
      size = 64;
    }
    chunk.push(item);
    size += n;
  }
  if (chunk.length > 0) out.push(wrap(chunk));
  return out;
}

// --- the consumer side ------------------------------------------------------------------------------

const storedAuditRecord = z.strictObject({
  id: z.string().min(1),
  timestamp: timestamp,
  tenantId: z.string().nullable(),
  actorId: z.string(),
  actorType: z.enum(['User', 'Operator', 'System', 'Anonymous']),
  action: z.string(),
  resource: z.string(),
  outcome: z.enum(['Success', 'Failure']),
  metadata: z.record(z.string(), z.unknown()),
});

const storedBillingEvent = z.strictObject({
  id: idempotencyKey,
  appId: z.string().min(1),
  tenantId: z.string().min(1),
  timestamp,
  type: z.string().min(1),
  quantity: z.number().finite(),
  metadata: z.record(z.string(), z.string()),
  receivedAt: timestamp,
  keyId: z.string(),
});

const queueMessage = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('audit'), records: z.array(storedAuditRecord).min(1) }),
  z.strictObject({ kind: z.literal('billing'), events: z.array(storedBillingEvent).min(1) }),
  z.strictObject({ kind: z.literal('export'), exportId: z.string().min(1) }),
]);

/** A message no retry can fix: it goes back to the queue until maxReceiveCount, then to the DLQ. */
export class PoisonMessageError extends Error {
  override readonly name = 'PoisonMessageError';
}

export function parseQueueMessage(body: string): QueueMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new PoisonMessageError('message body is not JSON');
  }
  const parsed = queueMessage.safeParse(json);
  if (!parsed.success) throw new PoisonMessageError(`message does not match the schema: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** yyyy-mm-dd (UTC) of an ISO timestamp: the archive's date partition and the billing day sums' key. */
export function utcDay(iso: string): string {
  return new Date(iso).toISOString().slice(0, 10);
}
