/** Wire shapes of the tenants API (UC-PROV-001), shared by the handlers and cpctl. */
import { z } from 'zod';
import { emailSchema, PLANS, TENANT_STATUSES, tenantDomainSchema, tenantNameSchema, type Tenant } from '../domain/tenant';

export const createTenantBody = z.strictObject({
  name: tenantNameSchema,
  domain: tenantDomainSchema,
  plan: z.enum(PLANS, { error: `must be one of ${PLANS.join(', ')}` }),
  ownerEmail: emailSchema,
  /** UC-PROV-001 step 3: applications to enable for the tenant right away. */
  appIds: z.array(z.uuid('must be an application id (UUID)')).max(20, 'at most 20').optional(),
});
export type CreateTenantBody = z.infer<typeof createTenantBody>;

/**
 * GET /v1/tenants (issue #4, NFR-CAP-001): all parameters optional and combinable. Prefixes are
 * case-insensitive; a name prefix also ignores how whitespace is spaced. The adapter normalises them the
 * way it normalised the stored keys (shared/adapters/dynamo/keys.ts); here they are only checked.
 */
export const listTenantsQuery = z.strictObject({
  limit: z.coerce.number().int('must be an integer').min(1, 'must be at least 1').max(100, 'must be at most 100').default(25),
  // A name-search cursor carries a name of up to 128 characters, escaped and base64url-encoded.
  cursor: z.string().max(1024, 'is too long').optional(),
  domainPrefix: z
    .string()
    .trim()
    .toLowerCase()
    // A prefix that no domain can start with is an input error, not an empty result.
    .regex(/^[a-z0-9-]{1,63}$/, 'must be 1 to 63 letters, digits or hyphens')
    .optional(),
  namePrefix: z
    .string()
    .max(128, 'must be at most 128 characters')
    .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters')
    .refine((s) => s.trim().length > 0, 'must not be blank')
    .optional(),
  status: z.enum(TENANT_STATUSES, { error: `must be one of ${TENANT_STATUSES.join(', ')}` }).optional(),
  plan: z.enum(PLANS, { error: `must be one of ${PLANS.join(', ')}` }).optional(),
});
export type ListTenantsQuery = z.infer<typeof listTenantsQuery>;

export const tenantIdParams = z.strictObject({
  id: z.uuid('must be a tenant id (UUID)'),
});

export interface TenantView {
  readonly id: string;
  readonly name: string;
  readonly domain: string;
  readonly plan: string;
  readonly status: string;
  readonly homeRegion: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly suspension: Tenant['suspension'];
  readonly deletion: Tenant['deletion'];
}

export const suspendTenantBody = z.strictObject({ reason: z.string().trim().max(500, 'must be at most 500 characters').optional() });
export const deleteTenantQuery = z.strictObject({ confirm: z.string().max(63).default('') });

export function tenantView(t: Tenant): TenantView {
  return {
    id: t.id,
    name: t.name,
    domain: t.domain,
    plan: t.plan,
    status: t.status,
    homeRegion: t.homeRegion,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    suspension: t.suspension ?? null,
    deletion: t.deletion ?? null,
  };
}
