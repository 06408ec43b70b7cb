import { appIdParams } from '../../shared/api/apps';
import { BusinessRuleError, NotFoundError } from '../../shared/domain/errors';
import { appView, hashClientSecret, newClientSecret, rotateSecrets } from '../../shared/domain/identity/apps';
import { defineHandler } from '../../shared/http/handler';

/** POST /v1/apps/{id}/secret: a new secret, shown once; the old one stays valid for the grace period. */
export const handler = defineHandler({
  auth: 'developer',
  params: appIdParams,
  auditAction: 'app.secret.rotate',
  handle: async ({ params, deps }) => {
    const store = deps.identity.store;
    const app = await store.getApp(params.id);
    if (!app) throw new NotFoundError('No application with this id.');
    if (app.clientType !== 'confidential') throw new BusinessRuleError('Public clients have no secret.');
    const now = deps.clock.now();
    const secret = newClientSecret();
    const updated = { ...app, secrets: rotateSecrets(app, hashClientSecret(secret), now, deps.config.lifetimes.clientSecretGraceSeconds), updatedAt: now.toISOString() };
    await store.saveApp(updated, app.updatedAt);
    return {
      status: 200,
      body: { ...appView(updated), clientSecret: secret },
      audit: { resource: `app:${app.id}`, tenantId: null, details: { graceSeconds: deps.config.lifetimes.clientSecretGraceSeconds } },
    };
  },
});
