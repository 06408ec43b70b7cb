import { listTenantsQuery, tenantView } from '../../shared/api/tenants';
import { defineHandler } from '../../shared/http/handler';

/** GET /v1/tenants — cursor-paginated, oldest first, operators only. */
export const handler = defineHandler({
  auth: 'operator',
  query: listTenantsQuery,
  handle: async ({ query, deps }) => {
    const page = await deps.tenants.list({ limit: query.limit, cursor: query.cursor });
    return { status: 200, body: { items: page.items.map(tenantView), nextCursor: page.nextCursor } };
  },
});
