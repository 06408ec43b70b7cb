import { loadTenant } from '../../shared/api/tenant-lookup';
import { suspendTenantBody, tenantIdParams, tenantView } from '../../shared/api/tenants';
import { suspend } from '../../shared/domain/tenant-lifecycle';
import { defineHandler } from '../../shared/http/handler';

/**
 * POST /v1/tenants/{id}/suspend (FR-OPS-001, UC-TENANT-SUSPEND): every user of the tenant is denied at
 * once — sign-in, refresh, userinfo and introspection all check the tenant's status on every call.
 */
export const handler = defineHandler({
  auth: 'operator',
  params: tenantIdParams,
  body: suspendTenantBody,
  auditAction: 'tenant.suspend',
  handle: async ({ params, body, deps }) => {
    const before = await loadTenant(deps, params.id);
    const after = suspend(before, body.reason ?? null, deps.clock.now());
    await deps.tenants.save(after, before);
    return { status: 200, body: tenantView(after), audit: { resource: `tenant:${after.id}`, tenantId: after.id, details: { from: before.status, to: after.status, reason: body.reason ?? null } } };
  },
});
