import { inviteBody, tenantParams, userView } from '../../shared/api/users';
import { loadTenant } from '../../shared/api/tenant-lookup';
import { BusinessRuleError } from '../../shared/domain/errors';
import { invitationMail } from '../../shared/domain/identity/mail-templates';
import { subjectOf } from '../../shared/domain/principal';
import { inviteUser, requirePermission } from '../../shared/domain/user-admin';
import { defineHandler } from '../../shared/http/handler';

/** POST /v1/tenants/{id}/invitations (FR-TENANT-001): an Invited user, a single-use token by mail. */
export const handler = defineHandler({
  auth: 'tenant',
  params: tenantParams,
  body: inviteBody,
  auditAction: 'user.invite',
  handle: async ({ params, body, principal, deps }) => {
    const subject = subjectOf(principal);
    requirePermission(subject, 'user.invite', params.id);
    const tenant = await loadTenant(deps, params.id);
    if (tenant.status !== 'Active') throw new BusinessRuleError(`The tenant is ${tenant.status}.`);
    const r = await inviteUser({ store: deps.users, ids: deps.ids, now: deps.clock.now() }, subject, tenant.id, body, (await deps.settings.get(tenant.id)).invitationExpiryDays);
    await deps.identity.mailer.send(
      invitationMail({ to: r.user.email, tenantName: tenant.name, acceptUrl: `${deps.config.issuer}/invitations/accept?token=${encodeURIComponent(r.token)}`, expiresAt: new Date(r.invitation.expiresAt), tenantId: tenant.id }),
    );
    return {
      status: 201,
      body: { user: userView(r.user), invitation: { id: r.invitation.id, expiresAt: r.invitation.expiresAt, status: r.invitation.status } },
      audit: { resource: `user:${r.user.id}`, tenantId: tenant.id, details: { email: r.user.email, role: r.user.role, invitationId: r.invitation.id } },
    };
  },
});
