import { userParams, userView } from '../../shared/api/users';
import { loadTenant } from '../../shared/api/tenant-lookup';
import { invitationMail } from '../../shared/domain/identity/mail-templates';
import { subjectOf } from '../../shared/domain/principal';
import { resendInvitation } from '../../shared/domain/user-admin';
import { defineHandler } from '../../shared/http/handler';

/** POST /v1/tenants/{id}/users/{userId}/invitation (FR-TENANT-007): old link dead, new one mailed. */
export const handler = defineHandler({
  auth: 'tenant',
  params: userParams,
  auditAction: 'user.invite.resend',
  handle: async ({ params, principal, deps }) => {
    const tenant = await loadTenant(deps, params.id);
    const r = await resendInvitation({ store: deps.users, ids: deps.ids, now: deps.clock.now() }, subjectOf(principal), tenant.id, params.userId, (await deps.settings.get(tenant.id)).invitationExpiryDays);
    await deps.identity.mailer.send(
      invitationMail({ to: r.user.email, tenantName: tenant.name, acceptUrl: `${deps.config.issuer}/invitations/accept?token=${encodeURIComponent(r.token)}`, expiresAt: new Date(r.invitation.expiresAt), tenantId: tenant.id }),
    );
    return {
      status: 200,
      body: { user: userView(r.user), invitation: { id: r.invitation.id, expiresAt: r.invitation.expiresAt }, revoked: r.revoked },
      audit: { resource: `user:${r.user.id}`, tenantId: tenant.id, details: { invitationId: r.invitation.id, revokedInvitations: r.revoked } },
    };
  },
});
