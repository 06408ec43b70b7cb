import { appIdParams } from '../../shared/api/apps';
import { NotFoundError } from '../../shared/domain/errors';
import { appView, updateAppBody } from '../../shared/domain/identity/apps';
import { defineHandler } from '../../shared/http/handler';

/**
 * PATCH /v1/apps/{id} (FR-SYS-003, UC-DEV-UPDATE): name, redirect URIs, status. Disabling stops token
 * issuance and refresh at once: every grant checks the app's status.
 */
export const handler = defineHandler({
  auth: 'developer',
  params: appIdParams,
  body: updateAppBody,
  auditAction: 'app.update',
  handle: async ({ params, body, deps }) => {
    const store = deps.identity.store;
    const app = await store.getApp(params.id);
    if (!app) throw new NotFoundError('No application with this id.');
    const updated = { ...app, ...body, updatedAt: deps.clock.now().toISOString() };
    await store.saveApp(updated, app.updatedAt);
    const changed = Object.fromEntries(Object.keys(body).map((k) => [k, { from: app[k as keyof typeof body], to: body[k as keyof typeof body] }]));
    return { status: 200, body: appView(updated), audit: { resource: `app:${app.id}`, tenantId: null, details: { changed } } };
  },
});
