import { OAuthError } from '../../shared/domain/identity/oauth';
import { defineWebHandler } from '../../shared/http/web';

/** GET and POST /userinfo (OIDC Core §5.3). A revoked session or family answers 401 at once. */
export const handler = defineWebHandler({
  kind: 'oauth',
  handle: async ({ method, form, header, deps }) => {
    const auth = header('authorization');
    const bearer = auth && /^bearer /i.test(auth) ? auth.slice(7).trim() : method === 'POST' ? form['access_token'] : undefined;
    if (!bearer) throw new OAuthError('invalid_token', 'An access token is required.', 401);
    const state = await deps.identity.tokens.accessTokenState(bearer);
    if (!state.active) throw new OAuthError('invalid_token', 'The access token is invalid, expired or revoked.', 401, state.reason);
    const c = state.claims;
    if (!c.tenant_id || !c.sub || !c.scope.split(' ').includes('openid')) throw new OAuthError('invalid_token', 'The access token has no user.', 401, 'machine token');
    const user = await deps.identity.store.getUser(c.tenant_id, c.sub);
    if (!user) throw new OAuthError('invalid_token', 'The access token is invalid, expired or revoked.', 401, 'user gone');
    const scopes = c.scope.split(' ');
    return {
      status: 200,
      body: { sub: user.id, tenant_id: user.tenantId, role: user.role, ...(scopes.includes('email') ? { email: user.email, email_verified: true } : {}) },
    };
  },
});
