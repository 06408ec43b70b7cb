import { userParams } from '../../shared/api/users';
import { subjectOf } from '../../shared/domain/principal';
import { deleteUser } from '../../shared/domain/user-admin';
import { defineHandler } from '../../shared/http/handler';

/** DELETE /v1/tenants/{id}/users/{userId} (FR-TENANT-002): removed from authentication, sessions ended. */
export const handler = defineHandler({
  auth: 'tenant',
  params: userParams,
  auditAction: 'user.delete',
  handle: async ({ params, principal, deps }) => {
    const now = deps.clock.now();
    // Authorised and deleted first (no session is touched on a refusal); the user's tokens already fail
    // from that moment, because every token check loads the user. Then the sessions are closed.
    const user = await deleteUser({ store: deps.users, ids: deps.ids, now }, subjectOf(principal), params.id, params.userId);
    const sessionsEnded = await deps.identity.store.revokeAllUserSessions(params.id, params.userId, 'user deleted', now.toISOString());
    return { status: 200, body: { deleted: true, sessionsEnded }, audit: { resource: `user:${user.id}`, tenantId: params.id, details: { role: user.role, sessionsEnded } } };
  },
});
