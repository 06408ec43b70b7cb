/**
 * The Auditor API's domain (FR-LOG-002, UC-AUDIT-EXPORT, ADR-0007): what an auditor may search and export,
 * how an audit record becomes a CSV row and back, and the export job. Pure: ports in, no AWS, no Lambda.
 *
 * A search or export covers ONE partition — a tenant's audit records, or the platform's (records with no
 * tenant) — and a half-open time range [from, to): a record stamped exactly `to` belongs to the next
 * range, so consecutive ranges neither overlap nor leave a gap. Results are OLDEST FIRST, for the search
 * as for the export: a log is read forwards, and records arriving while an auditor pages (stamped "now")
 * land after the cursor instead of shifting pages already read.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { buildAuditRecord, type AuditRecord, type Outcome } from './audit';
import { authorize, type Subject } from './authorization';
import { encodeCsv, restoreFormulaCell } from './csv';
import { ForbiddenError, InternalError, ValidationError } from './errors';
import type { ObjectStore } from './ingest-ports';

/** One search or export covers at most this many days (a year, leap day included). */
export const AUDIT_RANGE_MAX_DAYS = 366;
/** Search pages: the default and the largest page a caller may ask for. */
export const AUDIT_PAGE_DEFAULT = 100;
export const AUDIT_PAGE_MAX = 1000;
/** Download links expire after this many seconds ("minutes", UC-AUDIT-EXPORT). */
export const AUDIT_EXPORT_LINK_SECONDS = 300;
export const AUDIT_CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';

export interface AuditFilter {
  /** The tenant whose records are searched; null: the platform's own records (no tenant). */
  readonly tenantId: string | null;
  /** Inclusive lower bound, ISO 8601 UTC with milliseconds (the stored records' format). */
  readonly from: string;
  /** Exclusive upper bound, same format. */
  readonly to: string;
  readonly actorId?: string;
  readonly action?: string;
  readonly outcome?: Outcome;
}

// --- input --------------------------------------------------------------------------------------

const instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with a time zone (e.g. 2026-01-31T00:00:00Z)' });
const term = (max: number): z.ZodString =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters');

const filterFields = {
  tenantId: z.uuid('must be a tenant id (UUID)').optional(),
  from: instant,
  to: instant,
  actorId: term(256).optional(),
  action: term(256).optional(),
  outcome: z.enum(['Success', 'Failure'], { error: 'must be Success or Failure' }).optional(),
};

interface RawFilter {
  readonly tenantId?: string | undefined;
  readonly platform?: true | undefined;
  readonly from: string;
  readonly to: string;
  readonly actorId?: string | undefined;
  readonly action?: string | undefined;
  readonly outcome?: Outcome | undefined;
}

/**
 * The stored timestamps are `Date#toISOString()` (UTC, milliseconds) and the table compares them as
 * strings, so the bounds are brought to the same form: `+02:00` offsets become UTC, and precision beyond
 * milliseconds is cut (a bound inside a millisecond moves to its start).
 */
const utc = (iso: string): string => new Date(iso).toISOString();

function refineFilter(v: RawFilter, ctx: z.RefinementCtx): void {
  if ((v.tenantId === undefined) === (v.platform === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['tenantId'], message: 'give either tenantId or platform=true (the platform’s own records), not both' });
  }
  const from = Date.parse(v.from);
  const to = Date.parse(v.to);
  if (!(from < to)) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be later than from' });
  else if (to - from > AUDIT_RANGE_MAX_DAYS * 86_400_000) ctx.addIssue({ code: 'custom', path: ['to'], message: `must be at most ${AUDIT_RANGE_MAX_DAYS} days after from` });
}

function toFilter(v: RawFilter): AuditFilter {
  return {
    tenantId: v.tenantId ?? null,
    from: utc(v.from),
    to: utc(v.to),
    ...(v.actorId !== undefined ? { actorId: v.actorId } : {}),
    ...(v.action !== undefined ? { action: v.action } : {}),
    ...(v.outcome !== undefined ? { outcome: v.outcome } : {}),
  };
}

/** POST /v1/audit/exports body: `{ tenantId | platform: true, from, to, actorId?, action?, outcome? }`. */
export const auditExportBody = z
  .strictObject({ ...filterFields, platform: z.literal(true, { error: 'must be true when given' }).optional() })
  .superRefine(refineFilter)
  .transform(toFilter);

/** GET /v1/audit/events query: the filter (`platform=true` as a string) plus `cursor` and `limit`. */
export const auditSearchQuery = z
  .strictObject({
    ...filterFields,
    platform: z.literal('true', { error: 'must be true when given' }).transform((): true => true).optional(),
    cursor: z.string().max(2048, 'is too long').optional(),
    limit: z.coerce.number().int('must be an integer').min(1, 'must be at least 1').max(AUDIT_PAGE_MAX, `must be at most ${AUDIT_PAGE_MAX}`).default(AUDIT_PAGE_DEFAULT),
  })
  .superRefine(refineFilter)
  .transform((v) => ({ filter: toFilter(v), cursor: v.cursor, limit: v.limit }));

/** A stored filter, read back (the export item): already normalised, checked again all the same. */
export const storedAuditFilter = z.object({
  tenantId: z.uuid().nullable(),
  from: instant,
  to: instant,
  actorId: z.string().optional(),
  action: z.string().optional(),
  outcome: z.enum(['Success', 'Failure']).optional(),
});

/** The filter as the API shows it: the same shape the request used. */
export function filterView(f: AuditFilter): Record<string, unknown> {
  const { tenantId, ...rest } = f;
  return tenantId === null ? { platform: true, ...rest } : { tenantId, ...rest };
}

/**
 * Only Auditors read audit logs across tenants (ACT-AUDIT). Operators run the platform but do not read
 * its audit trail (separation of duties, ADR-0007); a tenant Owner reads only their own tenant's log.
 */
export function requireAuditReader(subject: Subject): void {
  const d = authorize(subject, 'audit.read.all', null);
  if (!d.allowed) throw new ForbiddenError('Only Auditors may search and export audit logs.', d.reason);
}

// --- ports --------------------------------------------------------------------------------------

export interface AuditPage {
  readonly items: readonly AuditRecord[];
  /** Opaque; null when the range is exhausted. A page may be short (even empty) while this is set. */
  readonly nextCursor: string | null;
}

export interface AuditSearch {
  page(filter: AuditFilter, options: { readonly limit: number; readonly cursor?: string | undefined }): Promise<AuditPage>;
  /** Every matching record, oldest first, read page by page (flat memory, for the export). */
  all(filter: AuditFilter): AsyncIterable<AuditRecord>;
}

export const AUDIT_EXPORT_STATUSES = ['Pending', 'Running', 'Completed', 'Failed'] as const;
export type AuditExportStatus = (typeof AUDIT_EXPORT_STATUSES)[number];

export interface AuditExportResult {
  readonly rows: number;
  readonly bytes: number;
  /** Hex SHA-256 of the object's bytes: what the auditor downloaded is what the job wrote. */
  readonly sha256: string;
  readonly completedAt: string;
}

export interface AuditExport {
  readonly id: string;
  readonly status: AuditExportStatus;
  readonly filter: AuditFilter;
  /** Platform user id of the auditor who asked: the only one who may read it. */
  readonly requestedBy: string;
  readonly createdAt: string;
  /** After this the item and its object are gone (RETENTION.exportDays; TTL and lifecycle lag, so readers check). */
  readonly expiresAt: string;
  readonly attempts: number;
  readonly result?: AuditExportResult;
  /** Id of the `audit.export` success record, fixed when the export completes (idempotent re-sends). */
  readonly auditRecordId?: string;
  readonly audited?: boolean;
}

export interface AuditExportStore {
  /** Fails if the id exists. */
  create(e: AuditExport): Promise<void>;
  get(id: string): Promise<AuditExport | undefined>;
  /** Pending/Failed → Running, attempts + 1; false when it is already Completed (or gone). */
  start(id: string): Promise<boolean>;
  /** → Completed with the result; false when another run completed it first. */
  complete(id: string, result: AuditExportResult, auditRecordId: string): Promise<boolean>;
  markAudited(id: string): Promise<void>;
  /** → Failed (unless Completed). `reason` is for operators and never shown to the auditor. */
  fail(id: string, at: string, reason: string): Promise<void>;
}

export function newAuditExport(input: { id: string; filter: AuditFilter; requestedBy: string; now: Date; retentionDays: number }): AuditExport {
  return {
    id: input.id,
    status: 'Pending',
    filter: input.filter,
    requestedBy: input.requestedBy,
    createdAt: input.now.toISOString(),
    expiresAt: new Date(input.now.getTime() + input.retentionDays * 86_400_000).toISOString(),
    attempts: 0,
  };
}

/** Where the CSV lives in the exports bucket. */
export function auditExportObjectKey(exportId: string): string {
  return `exports/${exportId}.csv`;
}

export function auditExportDownloadName(e: Pick<AuditExport, 'id'>): string {
  return `audit-export-${e.id}.csv`;
}

// --- CSV ------------------------------------------------------------------------------------------

/**
 * The fixed column set (csv.ts explains why it is fixed). `ip`, `userAgent` and `requestId` are lifted
 * out of the metadata when they are non-empty strings (the usual case) so a spreadsheet can filter on them;
 * anything else — null, absent, another type — stays in the `metadata` JSON. So every record converts to
 * a row and back without loss (auditRecordFromCsvRow).
 */
export const AUDIT_CSV_COLUMNS = ['id', 'timestamp', 'tenantId', 'actorId', 'actorType', 'action', 'resource', 'outcome', 'ip', 'userAgent', 'requestId', 'metadata'] as const;
const LIFTED = ['ip', 'userAgent', 'requestId'] as const;

export function auditCsvRow(r: AuditRecord): string[] {
  const rest: Record<string, unknown> = { ...r.metadata };
  const lifted: string[] = [];
  for (const k of LIFTED) {
    const v = rest[k];
    if (typeof v === 'string' && v !== '') {
      lifted.push(v);
      delete rest[k];
    } else {
      lifted.push('');
    }
  }
  return [r.id, r.timestamp, r.tenantId ?? '', r.actorId, r.actorType, r.action, r.resource, r.outcome, ...lifted, JSON.stringify(rest)];
}

const csvRecordSchema = z.object({
  id: z.string().min(1),
  timestamp: z.string().min(1),
  tenantId: z.string().nullable(),
  actorId: z.string(),
  actorType: z.enum(['User', 'Operator', 'System', 'Anonymous']),
  action: z.string(),
  resource: z.string(),
  outcome: z.enum(['Success', 'Failure']),
  metadata: z.record(z.string(), z.unknown()),
});

/** A parsed CSV row (cells as the file holds them, formula escapes included) back to the record. */
export function auditRecordFromCsvRow(cells: readonly string[]): AuditRecord {
  if (cells.length !== AUDIT_CSV_COLUMNS.length) throw new ValidationError(`an audit CSV row has ${AUDIT_CSV_COLUMNS.length} cells, not ${cells.length}`);
  const [id, timestamp, tenantId, actorId, actorType, action, resource, outcome, ip, userAgent, requestId, metadata] = cells.map(restoreFormulaCell) as [
    string, string, string, string, string, string, string, string, string, string, string, string,
  ];
  let meta: unknown;
  try {
    meta = JSON.parse(metadata);
  } catch {
    throw new ValidationError('the metadata cell is not JSON');
  }
  const lifted: Record<string, string> = {};
  if (ip !== '') lifted['ip'] = ip;
  if (userAgent !== '') lifted['userAgent'] = userAgent;
  if (requestId !== '') lifted['requestId'] = requestId;
  const parsed = csvRecordSchema.safeParse({ id, timestamp, tenantId: tenantId === '' ? null : tenantId, actorId, actorType, action, resource, outcome, metadata: meta });
  if (!parsed.success) throw new ValidationError(`not an audit CSV row: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  return { ...parsed.data, metadata: { ...parsed.data.metadata, ...lifted } };
}

async function* auditRows(source: AsyncIterable<AuditRecord>, counter: { rows: number }): AsyncGenerator<string[], void, undefined> {
  for await (const r of source) {
    counter.rows++;
    yield auditCsvRow(r);
  }
}

/**
 * Streams the records as CSV (header, BOM, CRLF) into the store. Nothing but the chunk in flight is held:
 * the source is pulled as the store drains (stream backpressure). Returns what was written; the byte count
 * and hash are of exactly the bytes handed to the store.
 */
export async function exportAuditCsv(source: AsyncIterable<AuditRecord>, store: ObjectStore, key: string): Promise<{ rows: number; bytes: number; sha256: string }> {
  const counter = { rows: 0 };
  const hash = createHash('sha256');
  let bytes = 0;
  async function* chunks(): AsyncGenerator<Buffer, void, undefined> {
    for await (const text of encodeCsv(auditRows(source, counter), { header: AUDIT_CSV_COLUMNS, bom: true })) {
      const b = Buffer.from(text, 'utf8');
      hash.update(b);
      bytes += b.length;
      yield b;
    }
  }
  const stored = await store.putStream(key, Readable.from(chunks(), { objectMode: false, highWaterMark: 64 * 1024 }), AUDIT_CSV_CONTENT_TYPE);
  if (stored.bytes !== bytes) throw new InternalError(`export ${key}: the store took ${stored.bytes} bytes of ${bytes}`);
  return { rows: counter.rows, bytes, sha256: hash.digest('hex') };
}

// --- the job ----------------------------------------------------------------------------------------

export interface AuditExportJobDeps {
  readonly exports: AuditExportStore;
  readonly search: AuditSearch;
  readonly objects: ObjectStore;
  readonly writeAudit: (record: AuditRecord) => Promise<void>;
  readonly now: () => Date;
  readonly newId: () => string;
  readonly warn: (message: string, fields: Record<string, unknown>) => void;
}

export type AuditExportOutcome = 'completed' | 'already-completed' | 'missing';

const JOB_ACTOR = { id: 'audit-export-job', type: 'System', tenantId: null } as const;

function exportAuditRecord(e: AuditExport, outcome: Outcome, id: string, at: Date, details: Record<string, unknown>): AuditRecord {
  return buildAuditRecord(
    {
      actor: JOB_ACTOR,
      action: 'audit.export',
      resource: `audit-export:${e.id}`,
      outcome,
      // Filed under the tenant whose records were exported, so its Owner (audit.read) sees who took them.
      tenantId: e.filter.tenantId,
      origin: { requestId: `audit-export-${e.id}`, ip: 'internal', userAgent: undefined },
      details: { exportId: e.id, requestedBy: e.requestedBy, filter: filterView(e.filter), ...details },
    },
    id,
    at,
  );
}

/**
 * Runs one export (the queue consumer calls this per message). At-least-once delivery: a redelivered
 * message for a Completed export writes nothing again, but re-sends its success audit record if that
 * did not get through the first time — with the same id and timestamp, so the audit store keeps one.
 * A failure marks the export Failed, is audited, and is rethrown so the queue retries (then its DLQ).
 */
export async function runAuditExport(deps: AuditExportJobDeps, exportId: string): Promise<AuditExportOutcome> {
  const e = await deps.exports.get(exportId);
  if (!e) {
    deps.warn('audit export not found (expired or never created); message dropped', { exportId });
    return 'missing';
  }
  if (e.status !== 'Completed' && (await deps.exports.start(exportId))) {
    let result: AuditExportResult;
    const auditRecordId = deps.newId();
    try {
      const written = await exportAuditCsv(deps.search.all(e.filter), deps.objects, auditExportObjectKey(e.id));
      result = { ...written, completedAt: deps.now().toISOString() };
    } catch (err) {
      const at = deps.now();
      const reason = err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 500) : 'unknown error';
      await deps.exports.fail(e.id, at.toISOString(), reason).catch((f: unknown) => deps.warn('could not mark the export Failed', { exportId, error: String(f) }));
      await deps.writeAudit(exportAuditRecord(e, 'Failure', deps.newId(), at, { attempt: e.attempts + 1 })).catch((f: unknown) => deps.warn('could not audit the export failure', { exportId, error: String(f) }));
      throw err;
    }
    if (!(await deps.exports.complete(e.id, result, auditRecordId))) return 'already-completed';
    await deps.writeAudit(exportAuditRecord(e, 'Success', auditRecordId, new Date(result.completedAt), { rows: result.rows, bytes: result.bytes, sha256: result.sha256 }));
    await deps.exports.markAudited(e.id);
    return 'completed';
  }
  // Completed by an earlier delivery (or concurrently): only make sure its success record went out.
  const done = e.status === 'Completed' ? e : await deps.exports.get(exportId);
  if (done?.status === 'Completed' && !done.audited && done.result && done.auditRecordId) {
    const r = done.result;
    await deps.writeAudit(exportAuditRecord(done, 'Success', done.auditRecordId, new Date(r.completedAt), { rows: r.rows, bytes: r.bytes, sha256: r.sha256 }));
    await deps.exports.markAudited(done.id);
  }
  return 'already-completed';
}

/** What GET /v1/audit/exports/{id} shows besides the link. A failure's cause stays in the logs. */
export function auditExportView(e: AuditExport): Record<string, unknown> {
  const base = { id: e.id, status: e.status, filter: filterView(e.filter), createdAt: e.createdAt, expiresAt: e.expiresAt };
  if (e.status !== 'Completed' || !e.result) return base;
  const { rows, bytes, sha256, completedAt } = e.result;
  return { ...base, rows, bytes, sha256, completedAt };
}
