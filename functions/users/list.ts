import { listUsersQuery, tenantParams, userView } from '../../shared/api/users';
import { subjectOf } from '../../shared/domain/principal';
import { requirePermission } from '../../shared/domain/user-admin';
import { defineHandler } from '../../shared/http/handler';

/** GET /v1/tenants/{id}/users — by email, filters role/status/emailPrefix, cursor-paginated (NFR-CAP-002). */
export const handler = defineHandler({
  auth: 'tenant',
  params: tenantParams,
  query: listUsersQuery,
  handle: async ({ params, query, principal, deps }) => {
    requirePermission(subjectOf(principal), 'user.list', params.id);
    const page = await deps.users.listUsers(params.id, query);
    return { status: 200, body: { items: page.items.map(userView), nextCursor: page.nextCursor } };
  },
});
