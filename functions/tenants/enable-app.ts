import { tenantAppParams } from '../../shared/api/apps';
import { NotFoundError } from '../../shared/domain/errors';
import { defineHandler } from '../../shared/http/handler';

/** PUT /v1/tenants/{id}/apps/{appId} (UC-PROV-001 step 3): users of the tenant may sign in to the app. */
export const handler = defineHandler({
  auth: 'operator',
  params: tenantAppParams,
  auditAction: 'tenant.app.enable',
  handle: async ({ params, deps }) => {
    const [tenant, app] = await Promise.all([deps.tenants.get(params.id), deps.identity.store.getApp(params.appId)]);
    if (!tenant) throw new NotFoundError('No tenant with this id.');
    if (!app) throw new NotFoundError('No application with this id.');
    await deps.identity.store.setAppEnabledForTenant(tenant.id, app.id, true, deps.clock.now().toISOString());
    return { status: 200, body: { tenantId: tenant.id, appId: app.id, enabled: true }, audit: { resource: `tenant:${tenant.id}/app:${app.id}`, tenantId: tenant.id } };
  },
});
