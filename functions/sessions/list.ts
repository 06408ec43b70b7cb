import { sessionView, userSessionsParams } from '../../shared/api/sessions';
import { NotFoundError } from '../../shared/domain/errors';
import { subjectOf } from '../../shared/domain/principal';
import { requirePermission } from '../../shared/domain/user-admin';
import { defineHandler } from '../../shared/http/handler';

/**
 * GET /v1/tenants/{id}/users/{userId}/sessions (FR-AUTH-005): a user's sessions, newest first. Audited
 * (CON-SEC-002): sessions carry the user's IP addresses and browsers.
 */
export const handler = defineHandler({
  auth: 'tenant',
  params: userSessionsParams,
  auditAction: 'user.sessions.list',
  handle: async ({ params, principal, deps }) => {
    requirePermission(subjectOf(principal), 'user.read', params.id);
    const store = deps.identity.store;
    if (!(await store.getUser(params.id, params.userId))) throw new NotFoundError('No such user in this tenant.');
    const sessions = (await store.listUserSessions(params.id, params.userId)).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    return {
      status: 200,
      body: { items: sessions.map(sessionView) },
      audit: { resource: `user:${params.userId}`, tenantId: params.id, details: { returned: sessions.length } },
    };
  },
});
