import { appIdParams } from '../../shared/api/apps';
import { NotFoundError } from '../../shared/domain/errors';
import { appView } from '../../shared/domain/identity/apps';
import { defineHandler } from '../../shared/http/handler';

/** GET /v1/apps/{id} */
export const handler = defineHandler({
  auth: 'developer',
  params: appIdParams,
  handle: async ({ params, deps }) => {
    const app = await deps.identity.store.getApp(params.id);
    if (!app) throw new NotFoundError('No application with this id.');
    return { status: 200, body: appView(app) };
  },
});
