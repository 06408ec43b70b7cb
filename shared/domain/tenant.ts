import { z } from 'zod';

/** DAT-TENANT. */
export const PLANS = ['Free', 'Pro', 'Enterprise'] as const;
export type Plan = (typeof PLANS)[number];

/** PendingDeletion: the 30-day grace of FR-OPS-002; inaccessible, restorable. */
export const TENANT_STATUSES = ['Active', 'Suspended', 'PendingDeletion'] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly domain: string;
  readonly plan: Plan;
  readonly status: TenantStatus;
  /** The region whose deployment holds this tenant's data (CON-DATA-001). */
  readonly homeRegion: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** FR-OPS-001: why and when it was suspended (null when not suspended). */
  readonly suspension?: { readonly at: string; readonly reason: string | null } | null;
  /** FR-OPS-002: set while PendingDeletion. */
  readonly deletion?: { readonly requestedAt: string; readonly purgeAfter: string; readonly previousStatus: 'Active' | 'Suspended' } | null;
}

/**
 * A tenant domain is the tenant's stable handle (`acme`): a DNS label, because it ends up in login URLs
 * and hostnames. Lowercase only, so that `Acme` and `acme` can never be two tenants.
 */
export const TENANT_DOMAIN_PATTERN = /^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$/;

/**
 * Names that would impersonate the platform or collide with our own hostnames and paths. Reserved words
 * are a policy (ERR-VAL-422), not a format error.
 */
export const RESERVED_TENANT_DOMAINS: ReadonlySet<string> = new Set([
  'admin', 'administrator', 'api', 'app', 'apps', 'assets', 'auth', 'billing', 'cdn', 'console', 'control-plane',
  'dashboard', 'default', 'dev', 'docs', 'help', 'internal', 'localhost', 'login', 'logout', 'mail', 'null',
  'oauth', 'oidc', 'operator', 'operators', 'platform', 'root', 'security', 'signin', 'signup', 'sso', 'static',
  'status', 'support', 'system', 'test', 'undefined', 'www',
]);

export function isReservedTenantDomain(domain: string): boolean {
  return RESERVED_TENANT_DOMAINS.has(domain) || domain.startsWith('xn--');
}

export const tenantNameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  // Control characters would corrupt CSV exports and logs.
  .regex(/^[^\p{Cc}]+$/u, 'must not contain control characters');

export const tenantDomainSchema = z
  .string()
  .min(3, 'must be 3 to 63 characters')
  .max(63, 'must be 3 to 63 characters')
  .regex(TENANT_DOMAIN_PATTERN, 'must be lowercase letters, digits and inner hyphens (a DNS label)');

/** Lenient enough for real addresses, strict enough to refuse header injection. Normalised to lowercase. */
export const emailSchema = z
  .string()
  .trim()
  .max(254, 'must be at most 254 characters')
  .email('must be an email address')
  .transform((s) => s.toLowerCase());

/** Flags a plan turns on or off by default (FR-FLAG-001, UC-PROV-001 postcondition 3). */
export const PLAN_DEFAULT_FLAGS: Readonly<Record<Plan, Readonly<Record<string, boolean>>>> = {
  Free: { ai_module_enabled: false, sso_enabled: false, audit_export_enabled: false, advanced_analytics: false },
  Pro: { ai_module_enabled: true, sso_enabled: false, audit_export_enabled: true, advanced_analytics: false },
  Enterprise: { ai_module_enabled: true, sso_enabled: true, audit_export_enabled: true, advanced_analytics: true },
};
