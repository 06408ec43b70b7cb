import { DynamoAuditSearch } from '../../shared/adapters/dynamo/audit-query';
import { auditSearchQuery, requireAuditReader } from '../../shared/domain/audit-export';
import { subjectOf } from '../../shared/domain/principal';
import { defineHandler } from '../../shared/http/handler';

/**
 * GET /v1/audit/events — Auditors only (FR-LOG-002, ACT-AUDIT): one tenant's audit records
 * (`tenantId`) or the platform's (`platform=true`) in [from, to), optionally by actorId, action, outcome;
 * oldest first, `limit` (default 100, at most 1,000) per page, `nextCursor` until null. Reads are not
 * audited (as for every read); denials are, by the shared middleware.
 */
export const handler = defineHandler({
  auth: 'tenant',
  query: auditSearchQuery,
  handle: async ({ query, principal, deps }) => {
    requireAuditReader(subjectOf(principal));
    const page = await new DynamoAuditSearch(deps.db, deps.config.tableName).page(query.filter, { limit: query.limit, cursor: query.cursor });
    return { status: 200, body: { items: page.items, nextCursor: page.nextCursor } };
  },
});
