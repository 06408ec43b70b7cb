/** Wire shapes of the tenants API (UC-PROV-001), shared by the handlers and cpctl. */
import { z } from 'zod';
import { emailSchema, PLANS, tenantDomainSchema, tenantNameSchema, type Tenant } from '../domain/tenant';

export const createTenantBody = z.strictObject({
  name: tenantNameSchema,
  domain: tenantDomainSchema,
  plan: z.enum(PLANS, { error: `must be one of ${PLANS.join(', ')}` }),
  ownerEmail: emailSchema,
});
export type CreateTenantBody = z.infer<typeof createTenantBody>;

export const listTenantsQuery = z.strictObject({
  limit: z.coerce.number().int('must be an integer').min(1, 'must be at least 1').max(100, 'must be at most 100').default(25),
  cursor: z.string().max(512, 'is too long').optional(),
});

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
