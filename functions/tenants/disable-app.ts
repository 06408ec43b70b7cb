import { tenantAppParams } from '../../shared/api/apps';
import { NotFoundError } from '../../shared/domain/errors';
import { defineHandler } from '../../shared/http/handler';

/** DELETE /v1/tenants/{id}/apps/{appId}: the tenant's users can no longer obtain tokens for the app. */
export const handler = defineHandler({
  auth: 'operator',
  params: tenantAppParams,
  auditAction: 'tenant.app.disable',
  handle: async ({ params, deps }) => {
    const tenant = await deps.tenants.get(params.id);
    if (!tenant) throw new NotFoundError('No tenant with this id.');
    await deps.identity.store.setAppEnabledForTenant(tenant.id, params.appId, false, deps.clock.now().toISOString());
    return { status: 200, body: { tenantId: tenant.id, appId: params.appId, enabled: false }, audit: { resource: `tenant:${tenant.id}/app:${params.appId}`, tenantId: tenant.id } };
  },
});
