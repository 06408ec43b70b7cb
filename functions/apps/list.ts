import { listAppsQuery } from '../../shared/api/apps';
import { appView } from '../../shared/domain/identity/apps';
import { defineHandler } from '../../shared/http/handler';

/** GET /v1/apps */
export const handler = defineHandler({
  auth: 'developer',
  query: listAppsQuery,
  handle: async ({ query, deps }) => {
    const page = await deps.identity.store.listApps({ limit: query.limit, cursor: query.cursor });
    return { status: 200, body: { items: page.items.map(appView), nextCursor: page.nextCursor } };
  },
});
