import { clientCredentials } from '../../shared/http/client-auth';
import { defineWebHandler } from '../../shared/http/web';

/** POST /revoke (RFC 7009): 200 whether or not the token was known; `token_type_hint` is not needed (§2.1). */
export const handler = defineWebHandler({
  kind: 'oauth',
  cors: 'client-origins',
  deniedAction: 'oauth.revoke',
  handle: async ({ form, header, deps }, audit) => {
    const app = await deps.identity.tokens.authenticateClient(clientCredentials(header('authorization'), form));
    await deps.identity.tokens.revoke(app, form['token']);
    // Any hint is accepted now, so what is recorded of it is bounded.
    await audit({ action: 'oauth.revoke', outcome: 'Success', tenantId: null, resource: `client:${app.id}`, details: { hint: form['token_type_hint']?.slice(0, 64) ?? null } });
    return { status: 200 };
  },
});
