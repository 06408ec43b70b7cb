/**
 * Items are decoded through zod on read: a malformed item is an internal error, never a silently
 * mistyped object. Writers build items from domain types through the `to*Item` functions here.
 */
import { z } from 'zod';
import { InternalError } from '../../domain/errors';
import type { FlagValue, Invitation, OperatorUser, TenantUser } from '../../domain/model';
import { INVITATION_STATUSES, TENANT_ROLES, USER_STATUSES } from '../../domain/model';
import { PLANS, TENANT_STATUSES, type Tenant } from '../../domain/tenant';
import type { AuditRecord } from '../../domain/audit';
import type { FlagType } from '../../domain/delivery-ports';
import { FLAG_TYPES, typedFlagValueSchema } from '../../domain/flags';
import { keys, TENANT_SEARCH_KINDS, tenantNameSearchKey, type ItemKey, type TenantSearchKind } from './keys';

export const ENTITY = {
  tenant: 'Tenant',
  tenantDomain: 'TenantDomain',
  /** A tenant's search entry (keys.ts, TENANT SEARCH): a copy of the tenant under another GSI1 key. */
  tenantSearch: 'TenantSearch',
  user: 'User',
  userEmail: 'UserEmail',
  userFilterEntry: 'UserFilterEntry',
  invitation: 'Invitation',
  flag: 'Flag',
  flagVersion: 'FlagVersion',
  audit: 'Audit',
  operator: 'Operator',
} as const;

const tenantItem = z.object({
  entity: z.literal(ENTITY.tenant),
  id: z.string(),
  name: z.string(),
  domain: z.string(),
  plan: z.enum(PLANS),
  status: z.enum(TENANT_STATUSES),
  homeRegion: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  suspension: z.object({ at: z.string(), reason: z.string().nullable() }).nullable().optional(),
  deletion: z.object({ requestedAt: z.string(), purgeAfter: z.string(), previousStatus: z.enum(['Active', 'Suspended']) }).nullable().optional(),
});

const operatorItem = z.object({
  entity: z.literal(ENTITY.operator),
  id: z.string(),
  email: z.string().nullable(),
  issuer: z.string(),
  subject: z.string(),
  createdAt: z.string(),
});

function decode<T>(schema: z.ZodType<T>, item: unknown, what: string): T {
  const parsed = schema.safeParse(item);
  if (!parsed.success) {
    // The message stays in logs; the client sees a generic 500 (CON-SEC-009).
    throw new InternalError(`corrupt ${what} item: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  }
  return parsed.data;
}

export function decodeTenant(item: unknown): Tenant {
  const { entity: _entity, ...tenant } = decode(tenantItem, item, 'tenant');
  return tenant;
}

const tenantListingItem = tenantItem.extend({ entity: z.enum([ENTITY.tenant, ENTITY.tenantSearch]) });

/** A row of a tenant listing or search: the tenant item itself or one of its search entries. */
export function decodeTenantListing(item: unknown): Tenant {
  const { entity: _entity, ...tenant } = decode(tenantListingItem, item, 'tenant listing');
  return tenant;
}

export function decodeOperator(item: unknown): OperatorUser {
  const { entity: _entity, ...rest } = decode(operatorItem, item, 'operator');
  return { ...rest, tenantId: null, role: 'Operator', status: 'Active' };
}

export function toTenantItem(t: Tenant): Record<string, unknown> {
  return { ...keys.tenant(t.id), ...keys.tenantIndex(t.createdAt, t.id), entity: ENTITY.tenant, ...t };
}

/**
 * The tenant's search entries (keys.ts, TENANT SEARCH). Each is a full copy of the tenant, so a search
 * page is served from the index alone, and carries `searchName` for a name filter on the domain index.
 * Whoever writes the tenant item writes these in the same transaction (provision, save).
 */
export function toTenantSearchItems(t: Tenant): Record<string, unknown>[] {
  const gsi: Record<TenantSearchKind, { GSI1PK: string; GSI1SK: string }> = {
    DOMAIN: keys.tenantSearch.domain(t.domain, t.id),
    NAME: keys.tenantSearch.name(t.name, t.id),
    STATUS: keys.tenantSearch.status(t.status, t.createdAt, t.id),
    PLAN: keys.tenantSearch.plan(t.plan, t.createdAt, t.id),
    STATUSPLAN: keys.tenantSearch.statusPlan(t.status, t.plan, t.createdAt, t.id),
  };
  return TENANT_SEARCH_KINDS.map((kind) => ({
    ...keys.tenantSearchEntry(t.id, kind),
    ...gsi[kind],
    entity: ENTITY.tenantSearch,
    ...t,
    searchName: tenantNameSearchKey(t.name),
  }));
}

export function toTenantDomainItem(t: Tenant): Record<string, unknown> {
  return { ...keys.tenantDomain(t.domain), entity: ENTITY.tenantDomain, tenantId: t.id, createdAt: t.createdAt };
}

export function toUserItem(u: TenantUser): Record<string, unknown> {
  return { ...keys.user(u.tenantId, u.id), entity: ENTITY.user, ...u };
}

/**
 * The email sentinel doubles as the tenant's user index, sorted by email: it carries role and status so
 * that listing and filtering 10,000+ users is one Query with a filter (NFR-CAP-002), and every write that
 * changes a user's role or status rewrites it in the same transaction.
 */
export function toUserEmailItem(u: TenantUser): Record<string, unknown> {
  return { ...keys.userEmail(u.tenantId, u.email), entity: ENTITY.userEmail, tenantId: u.tenantId, userId: u.id, email: u.email, role: u.role, status: u.status, createdAt: u.createdAt };
}

/** The user's entries in the status and role indexes: the same list row as the email index. */
export function toUserFilterItems(u: TenantUser): Record<string, unknown>[] {
  const row = { entity: ENTITY.userFilterEntry, tenantId: u.tenantId, userId: u.id, email: u.email, role: u.role, status: u.status, createdAt: u.createdAt };
  return [
    { ...keys.userByStatus(u.tenantId, u.status, u.email), ...row },
    { ...keys.userByRole(u.tenantId, u.role, u.email), ...row },
  ];
}

/**
 * What a change of a user (or its creation, `before` undefined, or removal, `after` undefined) does to
 * the status and role indexes, for the caller's transaction: every path that writes the email index
 * entry writes these too, so all three stay in step.
 */
export function userFilterChanges(before: TenantUser | undefined, after: TenantUser | undefined): { put: Record<string, unknown>[]; remove: ItemKey[] } {
  const put = after ? toUserFilterItems(after) : [];
  const kept = new Set(put.map((i) => String(i['SK'])));
  const remove = before ? [keys.userByStatus(before.tenantId, before.status, before.email), keys.userByRole(before.tenantId, before.role, before.email)].filter((k) => !kept.has(k.SK)) : [];
  return { put, remove };
}

export function toInvitationItem(i: Invitation): Record<string, unknown> {
  return {
    ...keys.invitation(i.tenantId, i.id),
    entity: ENTITY.invitation,
    ...i,
    // TTL lags by up to days; readers re-check expiresAt. Keep the record a while after expiry for resend/audit.
    ttl: Math.floor(Date.parse(i.expiresAt) / 1000) + 30 * 86_400,
  };
}

export function toFlagItem(f: FlagValue): Record<string, unknown> {
  // Always written with its type, even for booleans: only items from before typed flags lack it.
  return { ...keys.flag(f.tenantId, f.key), entity: ENTITY.flag, ...f, type: f.type ?? 'boolean' };
}

/** Reads a flag item; items written before typed flags (no `type`) are booleans. */
export function decodeFlagItem(item: Record<string, unknown>): FlagValue & { readonly type: FlagType } {
  const base = itemSchemas.flag.safeParse(item);
  if (!base.success) throw new InternalError('corrupt flag item');
  const typed = typedFlagValueSchema.safeParse({ type: base.data.type, value: base.data.value });
  if (!typed.success) throw new InternalError(`flag item ${base.data.key}: value does not match type ${base.data.type}`);
  const { tenantId, key, source, updatedAt } = base.data;
  return { tenantId, key, source, updatedAt, ...typed.data };
}

/** The per-tenant flag version (keys.flagVersion); provisioning starts it at 1. */
export function toFlagVersionItem(tenantId: string, version: number, at: string): Record<string, unknown> {
  return { ...keys.flagVersion(tenantId), entity: ENTITY.flagVersion, tenantId, version, updatedAt: at };
}

export function toOperatorItem(o: OperatorUser): Record<string, unknown> {
  return {
    ...keys.operatorIdentity(o.issuer, o.subject),
    entity: ENTITY.operator,
    id: o.id,
    email: o.email,
    issuer: o.issuer,
    subject: o.subject,
    createdAt: o.createdAt,
  };
}

export function toAuditItem(r: AuditRecord): Record<string, unknown> {
  const key = r.tenantId === null ? keys.platformAudit(r.timestamp, r.id) : keys.tenantAudit(r.tenantId, r.timestamp, r.id);
  return { ...key, entity: ENTITY.audit, ...r };
}

const auditItem = z.object({
  entity: z.literal(ENTITY.audit),
  id: z.string(),
  timestamp: z.string(),
  tenantId: z.string().nullable(),
  actorId: z.string(),
  actorType: z.enum(['User', 'Operator', 'System', 'Anonymous']),
  action: z.string(),
  resource: z.string(),
  outcome: z.enum(['Success', 'Failure']),
  metadata: z.record(z.string(), z.unknown()),
});

export function decodeAudit(item: unknown): AuditRecord {
  const { entity: _entity, ...rest } = decode(auditItem, item, 'audit');
  return rest;
}

// Exported for adapters that read users/invitations (later issues) and for the contract tests.
export const itemSchemas = {
  user: z.object({
    entity: z.literal(ENTITY.user),
    id: z.string(),
    tenantId: z.string(),
    email: z.string(),
    role: z.enum(TENANT_ROLES),
    status: z.enum(USER_STATUSES),
    createdAt: z.string(),
  }),
  invitation: z.object({
    entity: z.literal(ENTITY.invitation),
    id: z.string(),
    tenantId: z.string(),
    userId: z.string(),
    email: z.string(),
    role: z.enum(TENANT_ROLES),
    tokenHash: z.string(),
    status: z.enum(INVITATION_STATUSES),
    createdAt: z.string(),
    expiresAt: z.string(),
  }),
  /** The envelope only: decodeFlagItem checks the value against the type (absent type = legacy boolean). */
  flag: z.object({
    entity: z.literal(ENTITY.flag),
    tenantId: z.string(),
    key: z.string(),
    type: z.enum(FLAG_TYPES).default('boolean'),
    value: z.unknown(),
    source: z.enum(['plan', 'override']),
    updatedAt: z.string(),
  }),
  flagVersion: z.object({ entity: z.literal(ENTITY.flagVersion), version: z.int().min(0) }),
};
