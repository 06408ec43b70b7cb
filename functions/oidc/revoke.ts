import { clientCredentials } from '../../shared/http/client-auth';
import { defineWebHandler } from '../../shared/http/web';

/** POST /revoke (RFC 7009): 200 whether or not the token was known. */
export const handler = defineWebHandler({
  kind: 'oauth',
  handle: async ({ form, header, deps }, audit) => {
    const app = await deps.identity.tokens.authenticateClient(clientCredentials(header('authorization'), form));
    await deps.identity.tokens.revoke(app, form['token'], form['token_type_hint']);
    await audit({ action: 'oauth.revoke', outcome: 'Success', tenantId: null, resource: `client:${app.id}`, details: { hint: form['token_type_hint'] ?? null } });
    return { status: 200 };
  },
});
