import { requireKeyScope, tenantAccessFor } from '../../shared/api/ingest';
import { billingSummary, billingSummaryQuery } from '../../shared/domain/billing';
import { ForbiddenError, GoneError } from '../../shared/domain/errors';
import { defineHandler } from '../../shared/http/handler';

/** GET /v1/billing/summary?tenantId&from&to (FR-BILL-003): per-type quantity and event count of a period. */
export const handler = defineHandler({
  auth: 'apikey',
  query: billingSummaryQuery,
  handle: async ({ query, principal, deps }) => {
    requireKeyScope(principal, 'bill:read');
    const access = await tenantAccessFor(deps, principal.appId)(query.tenantId);
    if (access === 'purged') throw new GoneError('The tenant has been permanently deleted.');
    if (access !== 'ok') throw new ForbiddenError('The application is not enabled for this tenant.', 'app not enabled for tenant');
    const result = await billingSummary(deps.records, query);
    return { status: 200, headers: { 'cache-control': 'no-store' }, body: { ...result, asOf: deps.clock.now().toISOString() } };
  },
});
