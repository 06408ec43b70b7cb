import { requireTenantServed } from '../../shared/api/ingest';
import { requireScope } from '../../shared/domain/apikeys';
import { billingExportQuery, exportBillingEvents } from '../../shared/domain/billing';
import { defineHandler } from '../../shared/http/handler';

/**
 * GET /v1/billing/events?tenantId&from&to[&storedAfter][&cursor][&limit] (FR-BILL-003, UC-SYS-BILL-EXPORT)
 * with a `bill:read` key of an application enabled for the tenant. Pages are a snapshot as of the first
 * page (`asOf`); see shared/domain/billing.ts for why nothing is skipped or repeated.
 */
export const handler = defineHandler({
  auth: 'apikey',
  query: billingExportQuery,
  handle: async ({ query, principal, deps }) => {
    requireScope(principal, 'bill:read');
    await requireTenantServed(deps, principal.appId, query.tenantId);
    const result = await exportBillingEvents(deps.records, query, deps.clock.now());
    return { status: 200, headers: { 'cache-control': 'no-store' }, body: result };
  },
});
