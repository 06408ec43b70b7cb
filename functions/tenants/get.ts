import { tenantIdParams, tenantView } from '../../shared/api/tenants';
import { NotFoundError } from '../../shared/domain/errors';
import { defineHandler } from '../../shared/http/handler';

/** GET /v1/tenants/{id} — operators only. */
export const handler = defineHandler({
  auth: 'operator',
  params: tenantIdParams,
  handle: async ({ params, deps }) => {
    const tenant = await deps.tenants.get(params.id);
    if (!tenant) throw new NotFoundError('No tenant with this id.');
    return { status: 200, body: tenantView(tenant) };
  },
});
