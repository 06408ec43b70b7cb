import { updateUserBody, userParams, userView } from '../../shared/api/users';
import { subjectOf } from '../../shared/domain/principal';
import { changeUser } from '../../shared/domain/user-admin';
import { defineHandler } from '../../shared/http/handler';

/**
 * PATCH /v1/tenants/{id}/users/{userId} — role (FR-TENANT-004) or status (FR-TENANT-006). Either change
 * ends every session and refresh token of the user, so the new permissions apply at once.
 */
export const handler = defineHandler({
  auth: 'tenant',
  params: userParams,
  body: updateUserBody,
  auditAction: 'user.update',
  handle: async ({ params, body, principal, deps }) => {
    const now = deps.clock.now();
    const { before, after } = await changeUser({ store: deps.users, ids: deps.ids, now }, subjectOf(principal), params.id, params.userId, body);
    const changed = before.role !== after.role || before.status !== after.status;
    const sessionsEnded = changed ? await deps.identity.store.revokeAllUserSessions(params.id, params.userId, before.role !== after.role ? 'role changed' : 'status changed', now.toISOString()) : 0;
    return {
      status: 200,
      body: userView(after),
      audit: {
        resource: `user:${after.id}`,
        tenantId: params.id,
        details: { previous: { role: before.role, status: before.status }, next: { role: after.role, status: after.status }, sessionsEnded },
      },
    };
  },
});
