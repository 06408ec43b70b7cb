import { requireTenantServed } from '../../shared/api/ingest';
import { requireScope } from '../../shared/domain/apikeys';
import { billingSummary, billingSummaryQuery } from '../../shared/domain/billing';
import { defineHandler } from '../../shared/http/handler';

/** GET /v1/billing/summary?tenantId&from&to (FR-BILL-003): per-type quantity and event count of a period. */
export const handler = defineHandler({
  auth: 'apikey',
  query: billingSummaryQuery,
  handle: async ({ query, principal, deps }) => {
    requireScope(principal, 'bill:read');
    await requireTenantServed(deps, principal.appId, query.tenantId);
    const result = await billingSummary(deps.records, query);
    return { status: 200, headers: { 'cache-control': 'no-store' }, body: { ...result, asOf: deps.clock.now().toISOString() } };
  },
});
