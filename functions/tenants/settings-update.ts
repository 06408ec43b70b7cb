import { tenantParams } from '../../shared/api/users';
import { loadTenant } from '../../shared/api/tenant-lookup';
import { subjectOf } from '../../shared/domain/principal';
import { updateSettingsBody } from '../../shared/domain/tenant-settings';
import { requirePermission } from '../../shared/domain/user-admin';
import { defineHandler } from '../../shared/http/handler';

/** PATCH /v1/tenants/{id}/settings (Owner, Administrator, operator): previous and new values are audited. */
export const handler = defineHandler({
  auth: 'tenant',
  params: tenantParams,
  body: updateSettingsBody,
  auditAction: 'tenant.settings.update',
  handle: async ({ params, body, principal, deps }) => {
    requirePermission(subjectOf(principal), 'tenant.settings.update', params.id);
    await loadTenant(deps, params.id);
    const before = await deps.settings.get(params.id);
    const after = { passwordPolicy: body.passwordPolicy ?? before.passwordPolicy, invitationExpiryDays: body.invitationExpiryDays ?? before.invitationExpiryDays };
    await deps.settings.put(params.id, after, deps.clock.now().toISOString());
    return { status: 200, body: after, audit: { resource: `tenant:${params.id}/settings`, tenantId: params.id, details: { previous: before, next: after } } };
  },
});
