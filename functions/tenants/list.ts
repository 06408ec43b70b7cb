import { listTenantsQuery, tenantView } from '../../shared/api/tenants';
import { defineHandler } from '../../shared/http/handler';

/**
 * GET /v1/tenants — operators only, cursor-paginated. No parameters: every tenant, oldest first. With
 * domainPrefix/namePrefix (sorted by domain/name) and/or status/plan (oldest first): a search answered by
 * a GSI1 Query, never a Scan (NFR-CAP-001). A page may be short while nextCursor is set; null ends it.
 */
export const handler = defineHandler({
  auth: 'operator',
  query: listTenantsQuery,
  handle: async ({ query, deps }) => {
    const { limit, cursor, ...search } = query;
    const page = await deps.tenants.list({ limit, cursor, search });
    return { status: 200, body: { items: page.items.map(tenantView), nextCursor: page.nextCursor } };
  },
});
