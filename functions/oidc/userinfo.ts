import { BearerError } from '../../shared/domain/identity/oauth';
import { defineWebHandler } from '../../shared/http/web';

/**
 * GET and POST /userinfo (OIDC Core §5.3), a protected resource (RFC 6750): the token in the Authorization
 * header or, with POST, the form body — never both (§2). Errors carry a Bearer challenge (§3): none with no
 * token at all, `invalid_token` for a bad one (401, and a revoked session or family answers it at once),
 * `insufficient_scope` for a token without `openid` (403).
 */
export const handler = defineWebHandler({
  kind: 'oauth',
  cors: 'any-origin',
  deniedAction: 'oauth.userinfo',
  handle: async ({ method, form, header, deps }) => {
    const auth = header('authorization');
    const fromHeader = auth !== undefined && /^bearer(?: |$)/i.test(auth) ? auth.slice(6).trim() : undefined;
    const fromBody = method === 'POST' && form['access_token'] ? form['access_token'] : undefined;
    if (fromHeader !== undefined && fromBody !== undefined) throw new BearerError('invalid_request', 'Send the access token in one place only.', 'token in header and body');
    const bearer = fromHeader ?? fromBody;
    if (bearer === undefined) throw new BearerError('invalid_token', 'An access token is required.', 'no token', { withoutErrorInfo: true });
    const state = bearer === '' ? { active: false as const, reason: 'empty token' } : await deps.identity.tokens.accessTokenState(bearer);
    if (!state.active) throw new BearerError('invalid_token', 'The access token is invalid, expired or revoked.', state.reason);
    const c = state.claims;
    if (!c.tenant_id || !c.sub) throw new BearerError('invalid_token', 'The access token has no user.', 'machine token');
    const scopes = c.scope.split(' ');
    if (!scopes.includes('openid')) throw new BearerError('insufficient_scope', 'The access token lacks the openid scope.', 'no openid scope', { scope: 'openid' });
    const user = await deps.identity.store.getUser(c.tenant_id, c.sub);
    if (!user) throw new BearerError('invalid_token', 'The access token is invalid, expired or revoked.', 'user gone');
    return {
      status: 200,
      body: { sub: user.id, tenant_id: user.tenantId, role: user.role, ...(scopes.includes('email') ? { email: user.email, email_verified: true } : {}) },
    };
  },
});
