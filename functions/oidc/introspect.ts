import { OAuthError } from '../../shared/domain/identity/oauth';
import { clientCredentials } from '../../shared/http/client-auth';
import { defineWebHandler } from '../../shared/http/web';

/**
 * POST /introspect (RFC 7662): confidential clients only. An access token is shown to its own client and to
 * clients enabled for its tenant; anyone else gets `{"active":false}` (§4). `token_type_hint` is ignored.
 */
export const handler = defineWebHandler({
  kind: 'oauth',
  deniedAction: 'oauth.introspect',
  handle: async ({ form, header, deps }) => {
    const app = await deps.identity.tokens.authenticateClient(clientCredentials(header('authorization'), form));
    if (app.clientType !== 'confidential') throw new OAuthError('invalid_client', 'Introspection needs client authentication.', 401, 'public client');
    return { status: 200, body: await deps.identity.tokens.introspect(app, form['token']) };
  },
});
