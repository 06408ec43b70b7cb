/**
 * Data subject rights of tenant users (CON-COMP-001, GDPR Art. 15/16/17/20, Japan APPI §33–35):
 * access and portability (export), rectification (email), erasure (pseudonymisation). The rules live
 * here; persistence behind DataSubjectStore; who may do it comes from authorization.ts. The approach and
 * its limits are written down in doc/privacy.md.
 */
import type { AuditRecord } from './audit';
import { auditRecordHash } from './audit-chain';
import { authorizeOnUser, type Subject } from './authorization';
import { BusinessRuleError, ForbiddenError, NotFoundError } from './errors';
import type { InvitationStatus, TenantRole, UserStatus } from './model';
import type { IdGenerator } from './ports';
import { requirePermission, type UserAdminStore } from './user-admin';

/** Bumped whenever a field is renamed or removed; additions keep the version (readers ignore unknowns). */
export const EXPORT_FORMAT = 'user-data-export/1';

/** The user record as the data subject sees it: everything but the password hash. */
export interface SubjectProfile {
  readonly id: string;
  readonly tenantId: string;
  readonly email: string;
  readonly role: TenantRole;
  readonly status: UserStatus;
  readonly createdAt: string;
  readonly passwordChangedAt: string | null;
}

/** A session without its secret's hash (the adapter never reads the hash into these). */
export interface SubjectSession {
  readonly id: string;
  readonly status: 'Active' | 'Revoked';
  readonly createdAt: string;
  readonly authTime: string;
  readonly amr: readonly string[];
  readonly lastSeenAt: string;
  readonly idleExpiresAt: string;
  readonly absoluteExpiresAt: string;
  readonly ip: string;
  readonly userAgent: string | null;
  readonly revokedReason: string | null;
}

/** A refresh token family without its current and previous token hashes. */
export interface SubjectRefreshFamily {
  readonly id: string;
  readonly clientId: string;
  readonly sessionId: string;
  readonly scope: string;
  readonly status: 'Active' | 'Revoked';
  readonly createdAt: string;
  readonly absoluteExpiresAt: string;
}

/** An invitation without its token hash. */
export interface SubjectInvitation {
  readonly id: string;
  readonly email: string;
  readonly role: TenantRole;
  readonly status: InvitationStatus;
  readonly createdAt: string;
  readonly expiresAt: string;
}

/** A password reset request without its token hash. */
export interface SubjectPasswordReset {
  readonly id: string;
  readonly status: 'Pending' | 'Used';
  readonly createdAt: string;
  readonly expiresAt: string;
}

export interface SubjectRecords {
  readonly sessions: readonly SubjectSession[];
  readonly refreshFamilies: readonly SubjectRefreshFamily[];
  readonly invitations: readonly SubjectInvitation[];
  readonly passwordResets: readonly SubjectPasswordReset[];
}

/**
 * How many items of each kind an erasure deleted (kept in the tombstone as evidence, no content). Short
 * names on purpose: the audit scrubber drops keys that look like secrets (`password…`, `authorization…`).
 */
export interface ErasureCounts {
  readonly sessions: number;
  readonly refreshFamilies: number;
  /** OAuth authorization codes. */
  readonly codes: number;
  readonly invitations: number;
  /** Password reset requests. */
  readonly resets: number;
}

/** The tombstone: proves the erasure and names the pseudonym; holds no personal data. */
export interface Erasure {
  readonly tenantId: string;
  readonly userId: string;
  readonly pseudonymId: string;
  readonly erasedAt: string;
  readonly removed: ErasureCounts;
  /** In the tombstone: by the main pass. In eraseUser's result: including the catch-up pass after the commit. */
  readonly auditRecordsPseudonymised: number;
}

/**
 * An audit record the erasure rewrote, with the hash of its content after the rewrite. The erasure's own
 * audit record lists these (tamper evidence, shared/domain/audit-digest.ts): once that record is in the
 * signed chain, a verifier can tell the rewrite from tampering.
 */
export interface RewrittenAuditRecord {
  readonly id: string;
  readonly hash: string;
}

/** eraseUser's result: the tombstone's content plus the evidence for the audit chain (not kept in the tombstone). */
export interface ErasureResult extends Erasure {
  readonly rewrittenAuditRecords: readonly RewrittenAuditRecord[];
}

/** Evidence entries per audit record (~110 bytes each): the erasure's record stays far below a queue message's size. */
export const ERASURE_EVIDENCE_PER_RECORD = 500;

/** The evidence in parts of ERASURE_EVIDENCE_PER_RECORD; the first goes into the erasure's record, the rest into `user.data.erase.evidence` records. */
export function erasureEvidenceParts(rewritten: readonly RewrittenAuditRecord[]): { readonly rewrittenAuditRecords: readonly RewrittenAuditRecord[]; readonly part: number; readonly parts: number }[] {
  const parts = Math.max(1, Math.ceil(rewritten.length / ERASURE_EVIDENCE_PER_RECORD));
  return Array.from({ length: parts }, (_, i) => ({ rewrittenAuditRecords: rewritten.slice(i * ERASURE_EVIDENCE_PER_RECORD, (i + 1) * ERASURE_EVIDENCE_PER_RECORD), part: i + 1, parts }));
}

/** Returns the record's new metadata, or undefined when the record needs no change. */
export type AuditRewrite = (record: AuditRecord) => Record<string, unknown> | undefined;

export interface DataSubjectStore {
  getProfile(tenantId: string, userId: string): Promise<SubjectProfile | undefined>;
  getErasure(tenantId: string, userId: string): Promise<Erasure | undefined>;
  records(tenantId: string, userId: string): Promise<SubjectRecords>;
  /** Audit records whose actor is the user or whose resource is `user:<id>`, written at or after `sinceIso`; oldest first. */
  auditRecordsAbout(tenantId: string, userId: string, sinceIso: string): Promise<AuditRecord[]>;
  /**
   * New email sentinel (ConflictError ERR-VAL-409 when taken), old one deleted, user and invitations
   * rewritten — one transaction, conditional on the user being as read.
   */
  changeEmail(user: SubjectProfile, email: string): Promise<void>;
  /** Erasure step 1: the user becomes Disabled (no sign-in, no token, no invitation acceptance) and loses the Owner marker. */
  freeze(user: SubjectProfile): Promise<void>;
  /** Erasure step 2: sessions, refresh families, authorization codes, invitations and resets deleted. Idempotent. */
  deleteUserItems(tenantId: string, userId: string): Promise<ErasureCounts>;
  /** Applies `rewrite` to the tenant's audit records (all of them, or those written at or after `sinceIso`). Returns how many changed. */
  rewriteAudit(tenantId: string, sinceIso: string | null, rewrite: AuditRewrite): Promise<number>;
  /** Erasure step 4: user item, email sentinel and Owner marker deleted and the tombstone written, atomically. */
  commitErasure(user: SubjectProfile, erasure: Erasure): Promise<void>;
}

export interface DataSubjectDeps {
  readonly store: DataSubjectStore;
  readonly users: Pick<UserAdminStore, 'countActiveOwners'>;
  readonly ids: IdGenerator;
  readonly now: Date;
}

/**
 * Records about a user cannot predate the user (the id is generated at invitation); the margin absorbs
 * clock skew between the functions that wrote them.
 */
const AUDIT_CLOCK_MARGIN_MS = 60 * 60 * 1000;

/** Metadata keys that describe the actor's connection (buildAuditRecord adds ip and userAgent to every record). */
const ORIGIN_METADATA_KEYS: ReadonlySet<string> = new Set(['ip', 'requestIp', 'userAgent']);
/** Metadata keys that hold the address of the record's resource (the invitee of `user.invite`, for instance). */
const EMAIL_METADATA_KEYS: ReadonlySet<string> = new Set(['email', 'ownerEmail', 'loginHint']);

function erasedMessage(e: Erasure): string {
  return `This user was erased on ${e.erasedAt} (right to erasure); no personal data of theirs is held any more.`;
}

/** The user, or a 404 that says whether they never existed here or were erased. */
async function loadSubject(store: DataSubjectStore, tenantId: string, userId: string): Promise<SubjectProfile> {
  const user = await store.getProfile(tenantId, userId);
  if (user) return user;
  const erasure = await store.getErasure(tenantId, userId);
  throw new NotFoundError(erasure ? erasedMessage(erasure) : 'No such user in this tenant.');
}

function deny(reason: string): never {
  throw new ForbiddenError(`Not allowed: ${reason}.`, reason);
}

// --- access and portability (Art. 15 and 20) ----------------------------------------------------------

export interface UserDataExport {
  readonly format: typeof EXPORT_FORMAT;
  readonly exportedAt: string;
  readonly tenantId: string;
  readonly profile: SubjectProfile;
  readonly sessions: readonly SubjectSession[];
  readonly refreshFamilies: readonly SubjectRefreshFamily[];
  readonly invitations: readonly SubjectInvitation[];
  readonly passwordResets: readonly SubjectPasswordReset[];
  readonly auditRecords: readonly AuditRecord[];
}

function dropKeys(metadata: Readonly<Record<string, unknown>>, drop: ReadonlySet<string>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(metadata).filter(([k]) => !drop.has(k)));
}

/**
 * An audit record as the subject receives it. Art. 15(4): the copy must not disclose other people's data,
 * so the connection details (IP, user agent) stay only where the subject was the actor, and addresses
 * only where the subject was the resource (an Administrator's export must not list the people they invited).
 */
export function exportedAuditRecord(r: AuditRecord, userId: string): AuditRecord {
  const drop = new Set<string>();
  if (r.actorId !== userId) for (const k of ORIGIN_METADATA_KEYS) drop.add(k);
  if (r.resource !== `user:${userId}`) for (const k of EMAIL_METADATA_KEYS) drop.add(k);
  return { ...r, metadata: dropKeys(r.metadata, drop) };
}

/**
 * Every item of the user, copied field by field into the export's own shapes: an allowlist, so a hash
 * or secret added to an item later cannot leak through here by accident.
 */
export async function exportUserData(d: DataSubjectDeps, subject: Subject, tenantId: string, userId: string): Promise<UserDataExport> {
  requirePermission(subject, 'user.data.export', tenantId);
  const user = await loadSubject(d.store, tenantId, userId);
  const since = new Date(Date.parse(user.createdAt) - AUDIT_CLOCK_MARGIN_MS).toISOString();
  const [recs, audit] = await Promise.all([d.store.records(tenantId, userId), d.store.auditRecordsAbout(tenantId, userId, since)]);
  return {
    format: EXPORT_FORMAT,
    exportedAt: d.now.toISOString(),
    tenantId,
    profile: { id: user.id, tenantId: user.tenantId, email: user.email, role: user.role, status: user.status, createdAt: user.createdAt, passwordChangedAt: user.passwordChangedAt },
    sessions: recs.sessions.map((s) => ({
      id: s.id,
      status: s.status,
      createdAt: s.createdAt,
      authTime: s.authTime,
      amr: s.amr,
      lastSeenAt: s.lastSeenAt,
      idleExpiresAt: s.idleExpiresAt,
      absoluteExpiresAt: s.absoluteExpiresAt,
      ip: s.ip,
      userAgent: s.userAgent,
      revokedReason: s.revokedReason,
    })),
    refreshFamilies: recs.refreshFamilies.map((f) => ({ id: f.id, clientId: f.clientId, sessionId: f.sessionId, scope: f.scope, status: f.status, createdAt: f.createdAt, absoluteExpiresAt: f.absoluteExpiresAt })),
    invitations: recs.invitations.map((i) => ({ id: i.id, email: i.email, role: i.role, status: i.status, createdAt: i.createdAt, expiresAt: i.expiresAt })),
    passwordResets: recs.passwordResets.map((r) => ({ id: r.id, status: r.status, createdAt: r.createdAt, expiresAt: r.expiresAt })),
    auditRecords: audit.map((r) => exportedAuditRecord(r, userId)),
  };
}

// --- rectification (Art. 16) ----------------------------------------------------------------------------

/**
 * The email is the only personal field of the user record. The Administrator-vs-Owner rule applies as for
 * any change to a user. The caller ends the user's sessions: tokens and ID tokens carry the old address.
 */
export async function rectifyEmail(d: DataSubjectDeps, subject: Subject, tenantId: string, userId: string, email: string): Promise<{ before: SubjectProfile; after: SubjectProfile; changed: boolean }> {
  requirePermission(subject, 'user.data.rectify', tenantId);
  const user = await loadSubject(d.store, tenantId, userId);
  // 'other' never removes an Owner, so the count does not matter; the matrix rule does.
  const decision = authorizeOnUser(subject, user, { kind: 'other' }, Number.POSITIVE_INFINITY);
  if (!decision.allowed) deny(decision.reason);
  if (email === user.email) return { before: user, after: user, changed: false };
  await d.store.changeEmail(user, email);
  return { before: user, after: { ...user, email }, changed: true };
}

// --- erasure (Art. 17) by pseudonymisation -------------------------------------------------------------

/** What an erased user's email becomes where it appears in a record that is not keyed to the user. */
export function pseudonym(pseudonymId: string): string {
  return `erased-user:${pseudonymId}`;
}

function replaceAll(text: string, needle: string, replacement: string): string {
  if (needle === '') return text;
  const lower = text.toLowerCase();
  let out = '';
  let from = 0;
  for (let i = lower.indexOf(needle, from); i !== -1; i = lower.indexOf(needle, from)) {
    out += text.slice(from, i) + replacement;
    from = i + needle.length;
  }
  return out + text.slice(from);
}

/**
 * The erasure's rewrite of one audit record (pure, idempotent). Records about the user keep actorId and
 * resource — an id that identifies nobody in the control plane once the user record is gone (managed
 * applications know it as the OIDC `sub`: see doc/privacy.md, Limits) — and say `erased: true`; what they
 * lose, at any depth of the metadata:
 *   - resource `user:<id>`: the connection details (IP, user agent — the user's own, or those of whoever
 *     acted on them, which would otherwise locate the user's sign-ins) and every address key;
 *   - actor only (the user acted on something else): the connection details, which are the user's; the
 *     address keys there are the other person's and stay.
 * Any record that still mentions the address (case-insensitively, even inside a longer string) gets the
 * pseudonym in its place.
 */
export function pseudonymiseAuditRecord(r: AuditRecord, user: { id: string; email: string }, pseudonymId: string): Record<string, unknown> | undefined {
  const isResource = r.resource === `user:${user.id}`;
  const about = isResource || r.actorId === user.id;
  const drop = (k: string): boolean => (about && ORIGIN_METADATA_KEYS.has(k)) || (isResource && EMAIL_METADATA_KEYS.has(k));
  const email = user.email.toLowerCase();
  let changed = false;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const next = replaceAll(v, email, pseudonym(pseudonymId));
      if (next !== v) changed = true;
      return next;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, value] of Object.entries(v)) {
        if (drop(k)) {
          changed = true;
          continue;
        }
        out[k] = walk(value);
      }
      return out;
    }
    return v;
  };
  const metadata = walk(r.metadata) as Record<string, unknown>;
  if (!changed && !(about && metadata['erased'] !== true)) return undefined;
  return { ...metadata, erased: true };
}

/**
 * Right to be forgotten, keeping the audit trail meaningful (doc/privacy.md). The caller must confirm
 * with the user's address, so a mistyped id cannot erase the wrong person. Steps, each idempotent, so a
 * retry after a failure finishes the job (the user stays Disabled, with their address, until the end):
 *   1. freeze: Disabled, so nothing new (session, token, acceptance, reset) can be created meanwhile;
 *   2. sessions, refresh families, codes, invitations, resets deleted;
 *   3. the tenant's audit records pseudonymised;
 *   4. user, email sentinel and Owner marker deleted and the tombstone written, in one transaction;
 *   5. a catch-up pass over the audit records written since step 1 (a refused sign-in of the frozen user).
 */
export async function eraseUser(d: DataSubjectDeps, subject: Subject, tenantId: string, userId: string, confirm: string | undefined): Promise<ErasureResult> {
  requirePermission(subject, 'user.data.erase', tenantId);
  const user = await loadSubject(d.store, tenantId, userId);
  // The message never echoes the address: it would end up in the failure's audit record.
  if (confirm === undefined || confirm.trim().toLowerCase() !== user.email.toLowerCase()) {
    throw new BusinessRuleError("Confirm the erasure with the user's email address.", [{ location: 'body', pointer: '/confirm', detail: "must be the user's email address" }]);
  }
  const decision = authorizeOnUser(subject, user, { kind: 'delete' }, await d.users.countActiveOwners(tenantId));
  if (!decision.allowed) deny(decision.reason);

  const startedAt = new Date(d.now.getTime() - AUDIT_CLOCK_MARGIN_MS).toISOString();
  const pseudonymId = d.ids.uuid();
  const rewritten = new Map<string, string>();
  const rewrite: AuditRewrite = (r) => {
    const metadata = pseudonymiseAuditRecord(r, user, pseudonymId);
    if (metadata !== undefined) rewritten.set(r.id, auditRecordHash({ ...r, metadata }));
    // Already rewritten by an earlier attempt of this erasure that failed before its audit record: vouch for it now.
    else if (r.metadata['erased'] === true && (r.actorId === user.id || r.resource === `user:${user.id}`)) rewritten.set(r.id, auditRecordHash(r));
    return metadata;
  };
  await d.store.freeze(user);
  const removed = await d.store.deleteUserItems(tenantId, userId);
  // The whole audit range, not only since the user's creation: an earlier user with the same address
  // (deleted, then invited again) is the same person, and their address may be in older records.
  let pseudonymised = await d.store.rewriteAudit(tenantId, null, rewrite);
  const erasure: Erasure = { tenantId, userId, pseudonymId, erasedAt: d.now.toISOString(), removed, auditRecordsPseudonymised: pseudonymised };
  await d.store.commitErasure(user, erasure);
  pseudonymised += await d.store.rewriteAudit(tenantId, startedAt, rewrite);
  return { ...erasure, auditRecordsPseudonymised: pseudonymised, rewrittenAuditRecords: [...rewritten].map(([id, hash]) => ({ id, hash })) };
}
