import { loadTenant } from '../../shared/api/tenant-lookup';
import { tenantIdParams, tenantView } from '../../shared/api/tenants';
import { restore } from '../../shared/domain/tenant-lifecycle';
import { defineHandler } from '../../shared/http/handler';

/** POST /v1/tenants/{id}/restore: lifts a suspension, or cancels a deletion within its grace period. */
export const handler = defineHandler({
  auth: 'operator',
  params: tenantIdParams,
  auditAction: 'tenant.restore',
  handle: async ({ params, deps }) => {
    const before = await loadTenant(deps, params.id);
    const after = restore(before, deps.clock.now());
    await deps.tenants.save(after, before);
    return { status: 200, body: tenantView(after), audit: { resource: `tenant:${after.id}`, tenantId: after.id, details: { from: before.status, to: after.status } } };
  },
});
