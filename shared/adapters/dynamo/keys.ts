/**
 * The only place that builds table keys. Tenant-owned items start their partition key with
 * `TENANT#<id>`, so tenant isolation is visible in every key and a purge is one partition walk.
 * Global (per-region) items — uniqueness sentinels, the tenant index, platform users — use other prefixes.
 */
import { PLATFORM_PARTITIONS } from '../../config/constants';
import { SIGNING_KEY_PARTITION } from '../../config/constants';
import type { Plan, TenantStatus } from '../../domain/tenant';

export interface ItemKey {
  readonly PK: string;
  readonly SK: string;
}

const TENANT = 'TENANT#';

/*
 * TENANT SEARCH (issue #4, NFR-CAP-001) — every request path is a Query on GSI1, never a Scan, and the
 * table keeps its single GSI.
 *
 * Besides the tenant item (GSI1PK `TENANTS`, GSI1SK `<createdAt>#<id>`: the unfiltered listing, oldest
 * first), each tenant has five search entries in its OWN partition (PK `TENANT#<id>`,
 * SK `TENANTIDX#<kind>`), each a full copy of the tenant's attributes placed in a GSI1 partition:
 *
 *   kind        GSI1PK                               GSI1SK                    serves
 *   DOMAIN      TENANTS#DOMAIN                       <domain>#<id>             domainPrefix (begins_with)
 *   NAME        TENANTS#NAME                         <search name>#<id>        namePrefix (begins_with)
 *   STATUS      TENANTS#STATUS#<status>              <createdAt>#<id>          status
 *   PLAN        TENANTS#PLAN#<plan>                  <createdAt>#<id>          plan
 *   STATUSPLAN  TENANTS#STATUS#<status>#PLAN#<plan>  <createdAt>#<id>          status + plan
 *
 * Why entries in the tenant partition rather than a partition of their own: the purge walks the
 * tenant partition, so it removes them with everything else, and the write functions' grants need no
 * new leading key. Why one entry per filter rather than a FilterExpression on `TENANTS`: a filter reads
 * (and bills) every tenant it rejects, so a rare status or plan among 10,000 tenants would read them all
 * and hand back empty pages; with a partition per value a filtered page costs what it returns. Only a
 * prefix combined with status/plan uses a FilterExpression, over the already narrowed prefix range.
 * The price is six items rewritten per lifecycle change (TenantStore.save, one transaction), which is
 * rare, operator-driven and far below the 100-item transaction limit.
 *
 * The entries' base keys never change (SK `TENANTIDX#<kind>`), so a Put overwrites an entry even when its
 * GSI1 keys move (a status change moves the STATUS entry to another GSI1 partition): no delete needed.
 * Each GSI1 partition holds all tenants of the region, as `TENANTS` already does; at operator traffic
 * and thousands of tenants that is far below a partition's limits.
 */
export type TenantSearchKind = 'DOMAIN' | 'NAME' | 'STATUS' | 'PLAN' | 'STATUSPLAN';
export const TENANT_SEARCH_KINDS: readonly TenantSearchKind[] = ['DOMAIN', 'NAME', 'STATUS', 'PLAN', 'STATUSPLAN'];

interface GsiKey {
  readonly GSI1PK: string;
  readonly GSI1SK: string;
}

const SEARCH_ENTRY = 'TENANTIDX#';

const SEARCH_PARTITIONS = {
  domain: 'TENANTS#DOMAIN',
  name: 'TENANTS#NAME',
  status: (status: TenantStatus): string => `TENANTS#STATUS#${status}`,
  plan: (plan: Plan): string => `TENANTS#PLAN#${plan}`,
  statusPlan: (status: TenantStatus, plan: Plan): string => `TENANTS#STATUS#${status}#PLAN#${plan}`,
} as const;

/**
 * The name as search compares it: whitespace runs (any Unicode space) become one space, the ends are
 * trimmed, and it is lowercased locale-independently — so `  ACME   corp` finds `Acme Corp`. No Unicode
 * normalisation (NFC/NFKC): it could multiply a name's length past the 1,024-byte sort-key limit; as it
 * is, a 128-character name stays under ~400 bytes even escaped.
 */
export function tenantNameSearchKey(name: string): string {
  return name.replace(/\s+/gu, ' ').trim().toLowerCase();
}

/**
 * `#` ends the name in GSI1SK, so it (and `%`, the escape character) is percent-escaped inside the name:
 * otherwise the prefix `ab#` would match the tenant named `ab` through its id. The escape maps each
 * character on its own and no code is a prefix of another, so "name starts with p" holds exactly when
 * "escaped name starts with escaped p" — begins_with stays exact.
 */
function nameSortKey(searchKey: string): string {
  // U+10FFFF too: prefixEnd relies on no sort key containing it.
  return searchKey.replace(/%/g, '%25').replace(/#/g, '%23').replace(/\u{10FFFF}/gu, '%F4%8F%BF%BF');
}

/**
 * The upper end of "sort key starts with `prefix`" as a range: key conditions say
 * `SK BETWEEN :p AND :pEnd`, never `begins_with(SK, :p)`. DynamoDB compares strings by their UTF-8 bytes,
 * and no valid character encodes above U+10FFFF, so every key that starts with `prefix` lies in the range,
 * unless the character right after the prefix is U+10FFFF itself followed by more; no sort key of ours
 * contains it (emails and ids are ASCII, tenant names escape it in nameSortKey).
 *
 * Why not begins_with: DynamoDB Local, the local mode's table, evaluates begins_with on a sort key by
 * reading the whole partition, so a Query's cost grows with the partition (a 25-item page: 2 ms at
 * 10 items, 9 ms at 10,000), while a BETWEEN range reads only what it returns (2 ms at either size).
 * In DynamoDB both read only the range and cost the same.
 */
export function prefixEnd(prefix: string): string {
  return `${prefix}\u{10FFFF}`;
}

export const keys = {
  tenantPartition: (tenantId: string): string => `${TENANT}${tenantId}`,
  tenant: (tenantId: string): ItemKey => ({ PK: `${TENANT}${tenantId}`, SK: 'TENANT' }),
  /** Uniqueness of DAT-TENANT.domain within the region. */
  tenantDomain: (domain: string): ItemKey => ({ PK: `TENANTDOMAIN#${domain}`, SK: 'TENANTDOMAIN' }),
  /** GSI1 listing of all tenants, newest last; the sort key is time-ordered then id for a total order. */
  tenantIndex: (createdAt: string, tenantId: string): { GSI1PK: string; GSI1SK: string } => ({
    GSI1PK: 'TENANTS',
    GSI1SK: `${createdAt}#${tenantId}`,
  }),
  tenantIndexPartition: 'TENANTS',
  /** A tenant's search entry of one kind (see TENANT SEARCH below): in the tenant's own partition. */
  tenantSearchEntry: (tenantId: string, kind: TenantSearchKind): ItemKey => ({ PK: `${TENANT}${tenantId}`, SK: `${SEARCH_ENTRY}${kind}` }),
  tenantSearchEntryPrefix: SEARCH_ENTRY,
  tenantSearch: {
    domain: (domain: string, tenantId: string): GsiKey => ({ GSI1PK: SEARCH_PARTITIONS.domain, GSI1SK: `${domain}#${tenantId}` }),
    name: (name: string, tenantId: string): GsiKey => ({ GSI1PK: SEARCH_PARTITIONS.name, GSI1SK: `${nameSortKey(tenantNameSearchKey(name))}#${tenantId}` }),
    status: (status: TenantStatus, createdAt: string, tenantId: string): GsiKey => ({ GSI1PK: SEARCH_PARTITIONS.status(status), GSI1SK: `${createdAt}#${tenantId}` }),
    plan: (plan: Plan, createdAt: string, tenantId: string): GsiKey => ({ GSI1PK: SEARCH_PARTITIONS.plan(plan), GSI1SK: `${createdAt}#${tenantId}` }),
    statusPlan: (status: TenantStatus, plan: Plan, createdAt: string, tenantId: string): GsiKey => ({
      GSI1PK: SEARCH_PARTITIONS.statusPlan(status, plan),
      GSI1SK: `${createdAt}#${tenantId}`,
    }),
  },
  tenantSearchPartitions: SEARCH_PARTITIONS,
  /** What a name-prefix search passes to begins_with(GSI1SK, …): normalised and escaped like the stored key. */
  tenantNameSearchPrefix: (prefix: string): string => nameSortKey(tenantNameSearchKey(prefix)),
  user: (tenantId: string, userId: string): ItemKey => ({ PK: `${TENANT}${tenantId}`, SK: `USER#${userId}` }),
  /** Uniqueness of a user's email within a tenant (ERR-VAL-409). */
  userEmail: (tenantId: string, email: string): ItemKey => ({ PK: `${TENANT}${tenantId}`, SK: `USEREMAIL#${email}` }),
  invitation: (tenantId: string, invitationId: string): ItemKey => ({ PK: `${TENANT}${tenantId}`, SK: `INVITE#${invitationId}` }),
  flag: (tenantId: string, flagKey: string): ItemKey => ({ PK: `${TENANT}${tenantId}`, SK: `FLAG#${flagKey}` }),
  /**
   * DAT-FLAG version counter (issue #5): SK `FLAG!VERSION` sorts just before every `FLAG#<key>` ('!' < '#')
   * and shares the `FLAG` prefix with them, so one Query (begins_with `flagStatePrefix`) reads the version
   * and all flags together, while a begins_with `flagPrefix` Query still sees only flags.
   */
  flagVersion: (tenantId: string): ItemKey => ({ PK: `${TENANT}${tenantId}`, SK: 'FLAG!VERSION' }),
  flagPrefix: 'FLAG#',
  flagStatePrefix: 'FLAG',
  tenantAudit: (tenantId: string, timestamp: string, id: string): ItemKey => ({
    PK: `${TENANT}${tenantId}`,
    SK: `AUDIT#${timestamp}#${id}`,
  }),
  platformAudit: (timestamp: string, id: string): ItemKey => ({ PK: PLATFORM_PARTITIONS.audit, SK: `AUDIT#${timestamp}#${id}` }),
  /** FR-SYS-004: an operator is found by (issuer, subject); the item is the operator's user record. */
  operatorIdentity: (issuer: string, subject: string): ItemKey => ({
    PK: PLATFORM_PARTITIONS.operator,
    SK: `IDP#${encodeURIComponent(issuer)}#${encodeURIComponent(subject)}`,
  }),
  // --- identity (issue #3) -----------------------------------------------------------------------
  /** DAT-APP: global per region (an app may serve many tenants). Listed through GSI1. */
  app: (appId: string): ItemKey => ({ PK: `APP#${appId}`, SK: 'APP' }),
  appIndex: (createdAt: string, appId: string): { GSI1PK: string; GSI1SK: string } => ({ GSI1PK: 'APPS', GSI1SK: `${createdAt}#${appId}` }),
  appIndexPartition: 'APPS',
  /** UC-PROV-001 step 3: the app is enabled for the tenant (tenant-owned, so a purge removes it). */
  tenantApp: (tenantId: string, appId: string): ItemKey => ({ PK: `${TENANT}${tenantId}`, SK: `APP#${appId}` }),
  /** Pending /authorize transactions: the tenant may not be known yet, so not tenant-keyed; short TTL. */
  authorizationRequest: (id: string): ItemKey => ({ PK: `AUTHZREQ#${id}`, SK: 'AUTHZREQ' }),
  /** Sessions sort under their user, so "all sessions of a user" is one Query (FR-AUTH-005). */
  session: (tenantId: string, userId: string, sessionId: string): ItemKey => ({ PK: `${TENANT}${tenantId}`, SK: `USER#${userId}#SESSION#${sessionId}` }),
  userSessionsPrefix: (userId: string): string => `USER#${userId}#SESSION#`,
  authorizationCode: (tenantId: string, codeHash: string): ItemKey => ({ PK: `${TENANT}${tenantId}`, SK: `CODE#${codeHash}` }),
  refreshFamily: (tenantId: string, userId: string, familyId: string): ItemKey => ({ PK: `${TENANT}${tenantId}`, SK: `USER#${userId}#RTFAM#${familyId}` }),
  userFamiliesPrefix: (userId: string): string => `USER#${userId}#RTFAM#`,
  /** Families are found by id from the refresh token, which carries the user id too. */
  revokedAccessToken: (tenantId: string | null, jti: string): ItemKey => ({ PK: tenantId === null ? 'PLATFORM#REVOKED' : `${TENANT}${tenantId}`, SK: `REVOKEDAT#${jti}` }),
  /** ADR-0005: one item per token-signing key (public JWK, KMS-wrapped private key, state). */
  signingKey: (kid: string): ItemKey => ({ PK: SIGNING_KEY_PARTITION, SK: `SIGNINGKEY#${kid}` }),
  /** ADR-0005: which kid signs; rotation swaps it with a condition on the expected kid. */
  signingKeyPointer: (): ItemKey => ({ PK: SIGNING_KEY_PARTITION, SK: 'CURRENT' }),
  signingKeyPartition: SIGNING_KEY_PARTITION,
  /** FR-AUTH-004: password reset tokens, single use, found by id from the token. */
  passwordReset: (tenantId: string, resetId: string): ItemKey => ({ PK: `${TENANT}${tenantId}`, SK: `RESET#${resetId}` }),
  /** Fixed-window counters for ERR-RATE-429; the key is a hash, never an email or IP in clear. */
  rateWindow: (bucket: string, subjectHash: string, window: number): ItemKey => ({ PK: `RATE#${bucket}#${subjectHash}`, SK: `W#${window}` }),
  /** FR-OPS-002: tenants waiting for purge, ordered by when their grace ends. */
  purgeQueue: (purgeAfter: string, tenantId: string): ItemKey => ({ PK: 'PLATFORM#PURGEQUEUE', SK: `Q#${purgeAfter}#${tenantId}` }),
  purgeQueuePartition: 'PLATFORM#PURGEQUEUE',
  /** What remains of a purged tenant: its id and domain, so it answers ERR-RES-410 and a purge can resume. */
  purgedTenant: (tenantId: string): ItemKey => ({ PK: 'PLATFORM#PURGED', SK: `TENANT#${tenantId}` }),
  /** One item per Active Owner, so "is this the last Owner?" is a tiny Query (FR-TENANT-004/006/002). */
  activeOwner: (tenantId: string, userId: string): ItemKey => ({ PK: `${TENANT}${tenantId}`, SK: `OWNER#${userId}` }),
  userEmailPrefix: 'USEREMAIL#',
  /**
   * The tenant's user index by status and by role, each sorted by email (FR-TENANT-004/006 filters,
   * NFR-CAP-002): a status or role filter reads its own key range instead of filtering every user.
   */
  userByStatus: (tenantId: string, status: string, email: string): ItemKey => ({ PK: `${TENANT}${tenantId}`, SK: `USERSTATUS#${status}#${email}` }),
  userByStatusPrefix: (status: string): string => `USERSTATUS#${status}#`,
  userByRole: (tenantId: string, role: string, email: string): ItemKey => ({ PK: `${TENANT}${tenantId}`, SK: `USERROLE#${role}#${email}` }),
  userByRolePrefix: (role: string): string => `USERROLE#${role}#`,
  // --- data subject rights (CON-COMP-001, doc/privacy.md) ------------------------------------------
  /** What remains of an erased user: proof of the erasure and a pseudonym, no personal data. */
  erasedUser: (tenantId: string, userId: string): ItemKey => ({ PK: `${TENANT}${tenantId}`, SK: `ERASED#${userId}` }),
  /** Sort-key prefixes of tenant items that name a user only in an attribute (found by Query + filter). */
  invitationPrefix: 'INVITE#',
  passwordResetPrefix: 'RESET#',
  authorizationCodePrefix: 'CODE#',
  tenantAuditPrefix: 'AUDIT#',
  /** Sort-key bounds of a tenant's audit records written at or after `sinceIso` ('~' sorts after any ISO time). */
  tenantAuditSince: (sinceIso: string): { readonly from: string; readonly to: string } => ({ from: `AUDIT#${sinceIso}`, to: 'AUDIT#~' }),
  /** FR-AUTH-006 / FR-TENANT-001: the tenant's editable settings. */
  tenantSettings: (tenantId: string): ItemKey => ({ PK: `${TENANT}${tenantId}`, SK: 'SETTINGS' }),
  health: (): ItemKey => ({ PK: 'PLATFORM#HEALTH', SK: 'HEALTH' }),
  // --- API access keys (issue #5, DAT-KEY) ---------------------------------------------------------
  /**
   * One item per key, keyed by its public keyId: verification (the hot path) is one GetItem on the very
   * item that revocation updates, so there is no second copy to drift. The item holds appId, name,
   * scopes, sha256 of the secret (never the secret), status, createdAt/By, expiresAt, lastUsedAt,
   * revokedAt/By. Listing an application's keys is a Query on GSI1 (`APIKEYS#<appId>`, sorted by
   * `<createdAt>#<keyId>`), never a Scan; GSI reads are eventually consistent, which a management
   * listing tolerates (verification never uses the index). Not under `APP#<appId>`: that partition's
   * SK `APP` item is read by consistent GetItem only, and a second item type there would buy nothing.
   */
  apiKey: (keyId: string): ItemKey => ({ PK: `APIKEY#${keyId}`, SK: 'APIKEY' }),
  apiKeyAppIndex: (appId: string, createdAt: string, keyId: string): GsiKey => ({ GSI1PK: `APIKEYS#${appId}`, GSI1SK: `${createdAt}#${keyId}` }),
  apiKeyAppIndexPartition: (appId: string): string => `APIKEYS#${appId}`,
  // --- ingestion, export and tamper evidence (issue #6) ---------------------------------------------
  /**
   * DAT-BILL-EVENT: in the tenant's partition (a purge removes it), sorted by the event's timestamp so a
   * period is one key range. The app id and idempotency key make the sort key unique.
   */
  billingEvent: (tenantId: string, timestamp: string, appId: string, id: string): ItemKey => ({ PK: `${TENANT}${tenantId}`, SK: `BILL#${timestamp}#${appId}#${id}` }),
  billingEventPrefix: 'BILL#',
  /** Uniqueness of an idempotency key per application (≥ 35 days, INGEST_LIMITS.idempotencyDays). */
  billingIdempotency: (appId: string, id: string): ItemKey => ({ PK: `BILLKEY#${appId}#${id}`, SK: 'BILLKEY' }),
  /** Per tenant, UTC day and event type: quantity and count, added in the same transaction as the event. */
  billingDaySum: (tenantId: string, day: string, type: string): ItemKey => ({ PK: `${TENANT}${tenantId}`, SK: `BILLSUM#${day}#${type}` }),
  billingDaySumPrefix: 'BILLSUM#',
  /** The audit consumer's delivered batches, by delivery time (the digest job walks them in order). */
  auditBatch: (deliveredAt: string, batchId: string): ItemKey => ({ PK: 'PLATFORM#AUDITBATCH', SK: `BATCH#${deliveredAt}#${batchId}` }),
  /** Further parts of a batch too large for one item (≥ 1); they sort right after the batch's item. */
  auditBatchPart: (deliveredAt: string, batchId: string, part: number): ItemKey => ({ PK: 'PLATFORM#AUDITBATCH', SK: `BATCH#${deliveredAt}#${batchId}#P${String(part).padStart(4, '0')}` }),
  auditBatchPartition: 'PLATFORM#AUDITBATCH',
  /** Signed digests, by sequence number (zero-padded so lexical order is numeric order). */
  auditDigest: (seq: number): ItemKey => ({ PK: 'PLATFORM#AUDITDIGEST', SK: `DIGEST#${String(seq).padStart(12, '0')}` }),
  auditDigestPartition: 'PLATFORM#AUDITDIGEST',
  /** FR-LOG-002: an auditor's CSV export job and its result. */
  auditExport: (exportId: string): ItemKey => ({ PK: 'PLATFORM#AUDITEXPORT', SK: `EXPORT#${exportId}` }),
} as const;
