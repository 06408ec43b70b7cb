import { oneSessionParams, revocationReason } from '../../shared/api/sessions';
import { NotFoundError } from '../../shared/domain/errors';
import { subjectOf } from '../../shared/domain/principal';
import { requirePermission } from '../../shared/domain/user-admin';
import { defineHandler } from '../../shared/http/handler';

/** DELETE /v1/tenants/{id}/users/{userId}/sessions/{sessionId}: ends one session and its refresh tokens. */
export const handler = defineHandler({
  auth: 'tenant',
  params: oneSessionParams,
  auditAction: 'session.revoke',
  handle: async ({ params, principal, deps }) => {
    requirePermission(subjectOf(principal), 'user.sessions.revoke', params.id);
    const store = deps.identity.store;
    const session = await store.getSession(params.id, params.userId, params.sessionId);
    if (!session) throw new NotFoundError('No such session.');
    const ended = await store.revokeSession(params.id, params.userId, params.sessionId, revocationReason(principal), deps.clock.now().toISOString());
    return { status: 200, body: { revoked: ended ? 1 : 0 }, audit: { resource: `session:${params.sessionId}`, tenantId: params.id, details: { userId: params.userId, wasActive: ended } } };
  },
});
