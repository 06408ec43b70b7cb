import { loadTenant } from '../../shared/api/tenant-lookup';
import { tenantParams } from '../../shared/api/users';
import { defineHandler } from '../../shared/http/handler';

/**
 * GET /v1/tenants/{id}/flags (FR-FLAG-001): the operator's view of a tenant's flags — the same consistent
 * read that delivery uses, so the version shown is the one applications see in their ETag.
 */
export const handler = defineHandler({
  auth: 'operator',
  params: tenantParams,
  handle: async ({ params, deps }) => {
    await loadTenant(deps, params.id);
    return { status: 200, body: await deps.flags.tenantFlags(params.id) };
  },
});
