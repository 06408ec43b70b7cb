import { loadTenant } from '../../shared/api/tenant-lookup';
import { deleteTenantQuery, tenantIdParams, tenantView } from '../../shared/api/tenants';
import { requestDeletion } from '../../shared/domain/tenant-lifecycle';
import { defineHandler } from '../../shared/http/handler';

/**
 * DELETE /v1/tenants/{id}?confirm=<domain> (FR-OPS-002, UC-OPS-TENANT-DELETE): the tenant becomes
 * inaccessible and is purged after the grace period (default 30 days) unless restored before.
 */
export const handler = defineHandler({
  auth: 'operator',
  params: tenantIdParams,
  query: deleteTenantQuery,
  auditAction: 'tenant.delete',
  handle: async ({ params, query, deps }) => {
    const before = await loadTenant(deps, params.id);
    const after = requestDeletion(before, query.confirm, deps.clock.now(), deps.config.deletionGraceDays);
    await deps.tenants.save(after, before);
    return { status: 202, body: tenantView(after), audit: { resource: `tenant:${after.id}`, tenantId: after.id, details: { from: before.status, purgeAfter: after.deletion?.purgeAfter } } };
  },
});
