import { tenantIdParams, tenantView } from '../../shared/api/tenants';
import { loadTenant } from '../../shared/api/tenant-lookup';
import { subjectOf } from '../../shared/domain/principal';
import { requirePermission } from '../../shared/domain/user-admin';
import { defineHandler } from '../../shared/http/handler';

/** GET /v1/tenants/{id} — operators, and the tenant's own Owners and Administrators. */
export const handler = defineHandler({
  auth: 'tenant',
  params: tenantIdParams,
  handle: async ({ params, principal, deps }) => {
    requirePermission(subjectOf(principal), 'tenant.read', params.id);
    const tenant = await loadTenant(deps, params.id);
    return { status: 200, body: tenantView(tenant) };
  },
});
