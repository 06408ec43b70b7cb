import { SUPPORTED_SCOPES } from '../../shared/domain/identity/oauth';
import { defineWebHandler } from '../../shared/http/web';

/** GET /.well-known/openid-configuration (OpenID Connect Discovery 1.0). */
export const handler = defineWebHandler({
  kind: 'oauth',
  cors: 'any-origin',
  handle: async ({ deps }) => {
    const iss = deps.config.issuer;
    return {
      status: 200,
      headers: { 'cache-control': 'public, max-age=300' },
      body: {
        issuer: iss,
        authorization_endpoint: `${iss}/authorize`,
        token_endpoint: `${iss}/token`,
        userinfo_endpoint: `${iss}/userinfo`,
        jwks_uri: `${iss}/.well-known/jwks.json`,
        revocation_endpoint: `${iss}/revoke`,
        introspection_endpoint: `${iss}/introspect`,
        end_session_endpoint: `${iss}/logout`,
        response_types_supported: ['code'],
        response_modes_supported: ['query'],
        grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
        subject_types_supported: ['public'],
        // ES256 only: alg none and HS* are never accepted or advertised.
        id_token_signing_alg_values_supported: ['ES256'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
        revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
        introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        code_challenge_methods_supported: ['S256'],
        scopes_supported: SUPPORTED_SCOPES,
        claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'sid', 'amr', 'email', 'email_verified', 'tenant_id', 'tenant_domain', 'role'],
        // select_account shows the login form (like login); consent is given by the tenant's enablement of the app.
        prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
        authorization_response_iss_parameter_supported: true,
        request_parameter_supported: false,
        request_uri_parameter_supported: false,
        claims_parameter_supported: false,
      },
    };
  },
});
