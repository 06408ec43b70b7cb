import { OAuthError } from '../../shared/domain/identity/oauth';
import { clientCredentials } from '../../shared/http/client-auth';
import { defineWebHandler } from '../../shared/http/web';

/** POST /token (RFC 6749 §3.2): authorization_code, refresh_token, client_credentials. */
export const handler = defineWebHandler({
  kind: 'oauth',
  cors: 'client-origins',
  // Every refused grant is a denial (FR-LOG-003); replay detections are the ones that matter most.
  deniedAction: 'oauth.token',
  handle: async ({ method, form, header, deps }) => {
    if (method !== 'POST') throw new OAuthError('invalid_request', 'Use POST.');
    const tokens = deps.identity.tokens;
    const app = await tokens.authenticateClient(clientCredentials(header('authorization'), form));
    const grant = form['grant_type'];
    const body =
      grant === 'authorization_code'
        ? await tokens.exchangeCode(app, { code: form['code'], redirectUri: form['redirect_uri'], codeVerifier: form['code_verifier'] })
        : grant === 'refresh_token'
          ? await tokens.refresh(app, { refreshToken: form['refresh_token'], scope: form['scope'] })
          : grant === 'client_credentials'
            ? await tokens.clientCredentials(app, { scope: form['scope'] })
            : (() => {
                throw new OAuthError(grant ? 'unsupported_grant_type' : 'invalid_request', grant ? 'Unsupported grant_type.' : 'grant_type is required.');
              })();
    return { status: 200, body };
  },
});
