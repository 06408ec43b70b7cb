/**
 * Billing export (FR-BILL-003, UC-SYS-BILL-EXPORT): a tenant's events in a period, in a stable order
 * (event timestamp, then application, then idempotency key), with cursor pagination that neither skips
 * nor repeats an event while new ones keep arriving.
 *
 * How: a traversal is a snapshot. Its first page fixes `asOf` (now, less a margin covering writes still in
 * flight); every page returns only events stored at or before `asOf`, after the cursor's sort key. Events
 * stored later — even ones whose timestamp falls in pages already read, which late reports (up to 35 days)
 * make normal — are not mixed into this traversal: the response names `asOf`, and the next export with
 * `storedAfter=<asOf>` returns exactly those. Successive traversals therefore partition the events: each
 * is returned once, none is lost.
 */
import { z } from 'zod';
import type { AuditRecord } from './audit';
import type { BillingEvent } from './ingest-ports';
import { ValidationError } from './errors';

/**
 * What a conditional write did: stored; found the same record already stored (a redelivery); or found the
 * key taken by a different record (a reused idempotency key), which is dropped and stays as it was.
 */
export type StoreOutcome = 'stored' | 'duplicate' | 'conflict';

/** A write is visible to consistent reads within this long of the storedAt its consumer stamped. */
export const BILLING_SNAPSHOT_MARGIN_MS = 1_000;
export const BILLING_PAGE_DEFAULT = 100;
export const BILLING_PAGE_MAX = 1_000;
/** A period may span at most this long (a year and a day): exports are for invoicing periods. */
const MAX_PERIOD_MS = 367 * 86_400_000;

export interface BillingQuery {
  readonly tenantId: string;
  readonly from: string;
  readonly to: string;
  readonly asOf: string;
  readonly storedAfter?: string | undefined;
  readonly afterSk?: string | undefined;
  readonly limit: number;
}

export interface BillingPage {
  readonly items: readonly (BillingEvent & { readonly storedAt: string })[];
  /** Sort key to continue after; absent on the last page. */
  readonly nextSk: string | undefined;
}

export type BillingSums = Record<string, { quantity: number; count: number }>;

/** The consumers' store: both kinds of record, each written once (conditional on its key). */
export interface RecordStore extends BillingStore {
  putAuditRecords(records: readonly AuditRecord[]): Promise<StoreOutcome[]>;
}

export interface BillingStore {
  putBillingEvents(events: readonly BillingEvent[], storedAt: Date): Promise<StoreOutcome[]>;
  listBillingEvents(q: BillingQuery): Promise<BillingPage>;
  /** Sums per type over whole UTC days [fromDay, toDayExclusive). */
  billingDaySums(tenantId: string, fromDay: string, toDayExclusive: string): Promise<BillingSums>;
}

const iso = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).transform((s) => new Date(s).toISOString());

export const billingExportQuery = z
  .strictObject({
    tenantId: z.uuid('must be a tenant id (UUID)'),
    from: iso,
    to: iso,
    storedAfter: iso.optional(),
    cursor: z.string().max(2000).optional(),
    limit: z.coerce.number().int().min(1).max(BILLING_PAGE_MAX).default(BILLING_PAGE_DEFAULT),
  })
  .refine((q) => q.from < q.to, { message: 'from must be before to', path: ['to'] })
  .refine((q) => Date.parse(q.to) - Date.parse(q.from) <= MAX_PERIOD_MS, { message: 'the period may span at most 367 days', path: ['to'] });
export type BillingExportQuery = z.infer<typeof billingExportQuery>;

export const billingSummaryQuery = z
  .strictObject({ tenantId: z.uuid('must be a tenant id (UUID)'), from: iso, to: iso })
  .refine((q) => q.from < q.to, { message: 'from must be before to', path: ['to'] })
  .refine((q) => Date.parse(q.to) - Date.parse(q.from) <= MAX_PERIOD_MS, { message: 'the period may span at most 367 days', path: ['to'] });

interface Cursor {
  /** The query the cursor belongs to: a cursor cannot be replayed against another tenant or period. */
  readonly t: string;
  readonly f: string;
  readonly u: string;
  readonly s: string | null;
  readonly a: string;
  readonly k: string;
}

const cursorSchema = z.strictObject({ t: z.string(), f: z.string(), u: z.string(), s: z.string().nullable(), a: z.string(), k: z.string().startsWith('BILL#') });

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(raw: string, q: BillingExportQuery): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const c = cursorSchema.safeParse(parsed);
  if (!c.success || c.data.t !== q.tenantId || c.data.f !== q.from || c.data.u !== q.to || c.data.s !== (q.storedAfter ?? null)) {
    throw new ValidationError('The cursor is invalid or belongs to another query.', [{ location: 'query', pointer: '/cursor', detail: 'is invalid or belongs to another query' }]);
  }
  return c.data;
}

export interface BillingExportResult {
  readonly tenantId: string;
  readonly from: string;
  readonly to: string;
  /** Events stored after this are not in this traversal; ask again with storedAfter=asOf. */
  readonly asOf: string;
  readonly storedAfter: string | null;
  readonly items: readonly Record<string, unknown>[];
  readonly nextCursor: string | null;
}

export async function exportBillingEvents(store: BillingStore, q: BillingExportQuery, now: Date): Promise<BillingExportResult> {
  const cursor = q.cursor !== undefined ? decodeCursor(q.cursor, q) : undefined;
  const asOf = cursor?.a ?? new Date(now.getTime() - BILLING_SNAPSHOT_MARGIN_MS).toISOString();
  const page = await store.listBillingEvents({ tenantId: q.tenantId, from: q.from, to: q.to, asOf, storedAfter: q.storedAfter, afterSk: cursor?.k, limit: q.limit });
  return {
    tenantId: q.tenantId,
    from: q.from,
    to: q.to,
    asOf,
    storedAfter: q.storedAfter ?? null,
    items: page.items.map((e) => ({ id: e.id, appId: e.appId, tenantId: e.tenantId, timestamp: e.timestamp, type: e.type, quantity: e.quantity, metadata: e.metadata, receivedAt: e.receivedAt, storedAt: e.storedAt })),
    nextCursor: page.nextSk !== undefined ? encodeCursor({ t: q.tenantId, f: q.from, u: q.to, s: q.storedAfter ?? null, a: asOf, k: page.nextSk }) : null,
  };
}

/**
 * Per-type sums of a period: whole UTC days from the day sums the consumer maintains in the same
 * transaction as each event, the partial days at either edge from the events themselves.
 */
export async function billingSummary(store: BillingStore, q: { tenantId: string; from: string; to: string }): Promise<{ tenantId: string; from: string; to: string; sums: BillingSums }> {
  const dayStart = (ms: number): number => Math.floor(ms / 86_400_000) * 86_400_000;
  const fromMs = Date.parse(q.from);
  const toMs = Date.parse(q.to);
  const firstWhole = fromMs === dayStart(fromMs) ? fromMs : dayStart(fromMs) + 86_400_000;
  const lastWhole = dayStart(toMs);
  const sums: BillingSums = {};
  const add = (s: BillingSums): void => {
    for (const [type, v] of Object.entries(s)) {
      const t = (sums[type] ??= { quantity: 0, count: 0 });
      t.quantity += v.quantity;
      t.count += v.count;
    }
  };
  const farFuture = '9999-12-31T23:59:59.999Z';
  const sumEvents = async (from: number, to: number): Promise<void> => {
    let afterSk: string | undefined;
    do {
      const page = await store.listBillingEvents({ tenantId: q.tenantId, from: new Date(from).toISOString(), to: new Date(to).toISOString(), asOf: farFuture, afterSk, limit: BILLING_PAGE_MAX });
      for (const e of page.items) {
        const t = (sums[e.type] ??= { quantity: 0, count: 0 });
        t.quantity += e.quantity;
        t.count += 1;
      }
      afterSk = page.nextSk;
    } while (afterSk !== undefined);
  };
  if (firstWhole >= lastWhole) {
    await sumEvents(fromMs, toMs);
  } else {
    if (fromMs < firstWhole) await sumEvents(fromMs, firstWhole);
    add(await store.billingDaySums(q.tenantId, new Date(firstWhole).toISOString().slice(0, 10), new Date(lastWhole).toISOString().slice(0, 10)));
    if (lastWhole < toMs) await sumEvents(lastWhole, toMs);
  }
  return { tenantId: q.tenantId, from: q.from, to: q.to, sums };
}
