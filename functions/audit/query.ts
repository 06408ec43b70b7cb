import { DynamoAuditSearch } from '../../shared/adapters/dynamo/audit-query';
import { auditSearchQuery, requireAuditReader } from '../../shared/domain/audit-export';
import { subjectOf } from '../../shared/domain/principal';
import { defineHandler } from '../../shared/http/handler';

/**
 * GET /v1/audit/events — Auditors only (FR-LOG-002, ACT-AUDIT): one tenant's audit records
 * (`tenantId`) or the platform's (`platform=true`) in [from, to), optionally by actorId, action, outcome;
 * oldest first, `limit` (default 100, at most 1,000) per page, `nextCursor` until null. Audited
 * (CON-SEC-002: audit records name people and their addresses), once per search: the first page only,
 * with the filter, so that paging through one search is one record.
 */
export const handler = defineHandler({
  auth: 'tenant',
  query: auditSearchQuery,
  auditAction: 'audit.search',
  handle: async ({ query, principal, deps }) => {
    requireAuditReader(subjectOf(principal));
    const page = await new DynamoAuditSearch(deps.db, deps.config.tableName).page(query.filter, { limit: query.limit, cursor: query.cursor });
    const body = { items: page.items, nextCursor: page.nextCursor };
    if (query.cursor !== undefined) return { status: 200, body };
    const { tenantId, ...filter } = query.filter;
    return { status: 200, body, audit: { resource: tenantId === null ? 'audit:platform' : `audit:tenant:${tenantId}`, tenantId, details: { ...filter, returned: page.items.length } } };
  },
});
