import { listUsersQuery, tenantParams, userView } from '../../shared/api/users';
import { subjectOf } from '../../shared/domain/principal';
import { requirePermission } from '../../shared/domain/user-admin';
import { defineHandler } from '../../shared/http/handler';

/**
 * GET /v1/tenants/{id}/users — by email, filters role/status/emailPrefix, cursor-paginated (NFR-CAP-002).
 * Audited although it changes nothing (CON-SEC-002: access to personal data is recorded): who listed
 * which tenant's users, with how many returned, never the names or addresses themselves.
 */
export const handler = defineHandler({
  auth: 'tenant',
  params: tenantParams,
  query: listUsersQuery,
  auditAction: 'user.list',
  handle: async ({ params, query, principal, deps }) => {
    requirePermission(subjectOf(principal), 'user.list', params.id);
    const page = await deps.users.listUsers(params.id, query);
    return {
      status: 200,
      body: { items: page.items.map(userView), nextCursor: page.nextCursor },
      audit: { resource: `tenant:${params.id}`, tenantId: params.id, details: { returned: page.items.length } },
    };
  },
});
