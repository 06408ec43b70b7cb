import { randomUUID } from 'node:crypto';
import { appView, hashClientSecret, newClientSecret, registerAppBody, type ManagedApp } from '../../shared/domain/identity/apps';
import { defineHandler } from '../../shared/http/handler';

/** POST /v1/apps (FR-SYS-001, UC-DEV-REGISTER): the client secret is in this response and nowhere else. */
export const handler = defineHandler({
  auth: 'developer',
  body: registerAppBody,
  auditAction: 'app.register',
  handle: async ({ body, principal, deps }) => {
    const at = deps.clock.now().toISOString();
    const secret = body.clientType === 'confidential' ? newClientSecret() : null;
    const app: ManagedApp = {
      id: randomUUID(),
      name: body.name,
      environment: body.environment,
      clientType: body.clientType,
      grantTypes: body.grantTypes,
      redirectUris: body.redirectUris,
      postLogoutRedirectUris: body.postLogoutRedirectUris,
      status: 'Active',
      ownerId: principal.user.id,
      secrets: secret ? [{ hash: hashClientSecret(secret), createdAt: at, expiresAt: null }] : [],
      createdAt: at,
      updatedAt: at,
    };
    await deps.identity.store.createApp(app);
    return {
      status: 201,
      headers: { location: `/v1/apps/${app.id}` },
      body: { ...appView(app), ...(secret ? { clientSecret: secret } : {}) },
      audit: { resource: `app:${app.id}`, tenantId: null, details: { name: app.name, clientType: app.clientType, grantTypes: app.grantTypes, redirectUris: app.redirectUris } },
    };
  },
});
