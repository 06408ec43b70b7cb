import { revocationReason, userSessionsParams } from '../../shared/api/sessions';
import { NotFoundError } from '../../shared/domain/errors';
import { subjectOf } from '../../shared/domain/principal';
import { requirePermission } from '../../shared/domain/user-admin';
import { defineHandler } from '../../shared/http/handler';

/** DELETE /v1/tenants/{id}/users/{userId}/sessions (UC-TENANT-SESSION-REVOKE): every session and refresh token. */
export const handler = defineHandler({
  auth: 'tenant',
  params: userSessionsParams,
  auditAction: 'session.revoke_all',
  handle: async ({ params, principal, deps }) => {
    requirePermission(subjectOf(principal), 'user.sessions.revoke', params.id);
    const store = deps.identity.store;
    if (!(await store.getUser(params.id, params.userId))) throw new NotFoundError('No such user in this tenant.');
    const revoked = await store.revokeAllUserSessions(params.id, params.userId, revocationReason(principal), deps.clock.now().toISOString());
    return { status: 200, body: { revoked }, audit: { resource: `user:${params.userId}`, tenantId: params.id, details: { sessionsEnded: revoked } } };
  },
});
