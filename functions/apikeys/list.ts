import { appIdParams } from '../../shared/api/apps';
import { apiKeyView } from '../../shared/domain/apikeys';
import { defineHandler } from '../../shared/http/handler';

/** GET /v1/apps/{id}/keys: the application's keys, newest last; never a secret or a hash. */
export const handler = defineHandler({
  auth: 'developer',
  params: appIdParams,
  handle: async ({ params, deps }) => {
    const items = await deps.apiKeys.list(params.id);
    return { status: 200, body: { items: items.map(apiKeyView) } };
  },
});
