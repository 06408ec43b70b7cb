import { tenantParams } from '../../shared/api/users';
import { loadTenant } from '../../shared/api/tenant-lookup';
import { subjectOf } from '../../shared/domain/principal';
import { requirePermission } from '../../shared/domain/user-admin';
import { defineHandler } from '../../shared/http/handler';

/** GET /v1/tenants/{id}/settings: password policy (FR-AUTH-006) and invitation expiry. */
export const handler = defineHandler({
  auth: 'tenant',
  params: tenantParams,
  handle: async ({ params, principal, deps }) => {
    requirePermission(subjectOf(principal), 'tenant.settings.read', params.id);
    await loadTenant(deps, params.id);
    return { status: 200, body: await deps.settings.get(params.id) };
  },
});
