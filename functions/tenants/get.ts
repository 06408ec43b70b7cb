import { tenantIdParams, tenantView } from '../../shared/api/tenants';
import { loadTenant } from '../../shared/api/tenant-lookup';
import { defineHandler } from '../../shared/http/handler';

/** GET /v1/tenants/{id} — operators only. */
export const handler = defineHandler({
  auth: 'operator',
  params: tenantIdParams,
  handle: async ({ params, deps }) => {
    const tenant = await loadTenant(deps, params.id);
    return { status: 200, body: tenantView(tenant) };
  },
});
