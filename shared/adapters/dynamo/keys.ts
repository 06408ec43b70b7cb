/**
 * The only place that builds table keys. Tenant-owned items start their partition key with
 * `TENANT#<id>`, so tenant isolation is visible in every key and a purge is one partition walk.
 * Global (per-region) items — uniqueness sentinels, the tenant index, platform users — use other prefixes.
 */
import { PLATFORM_PARTITIONS } from '../../config/constants';
import { SIGNING_KEY_PARTITION } from '../../config/constants';

export interface ItemKey {
  readonly PK: string;
  readonly SK: string;
}

const TENANT = 'TENANT#';

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
  user: (tenantId: string, userId: string): ItemKey => ({ PK: `${TENANT}${tenantId}`, SK: `USER#${userId}` }),
  /** Uniqueness of a user's email within a tenant (ERR-VAL-409). */
  userEmail: (tenantId: string, email: string): ItemKey => ({ PK: `${TENANT}${tenantId}`, SK: `USEREMAIL#${email}` }),
  invitation: (tenantId: string, invitationId: string): ItemKey => ({ PK: `${TENANT}${tenantId}`, SK: `INVITE#${invitationId}` }),
  flag: (tenantId: string, flagKey: string): ItemKey => ({ PK: `${TENANT}${tenantId}`, SK: `FLAG#${flagKey}` }),
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
  health: (): ItemKey => ({ PK: 'PLATFORM#HEALTH', SK: 'HEALTH' }),
} as const;
