/**
 * The only place that builds table keys. Tenant-owned items start their partition key with
 * `TENANT#<id>`, so tenant isolation is visible in every key and a purge is one partition walk.
 * Global (per-region) items — uniqueness sentinels, the tenant index, platform users — use other prefixes.
 */
import { PLATFORM_PARTITIONS } from '../../config/constants';

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
  health: (): ItemKey => ({ PK: 'PLATFORM#HEALTH', SK: 'HEALTH' }),
} as const;
