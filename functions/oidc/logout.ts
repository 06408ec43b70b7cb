import { decodeJwt } from 'jose';
import { redirectWith } from '../../shared/domain/identity/oauth';
import { clearSessionCookie, isSecureIssuer, SESSION_COOKIE } from '../../shared/http/cookies';
import { errorPage, messagePage } from '../../shared/http/ui/pages';
import { defineWebHandler } from '../../shared/http/web';

/**
 * GET /logout: OpenID Connect RP-Initiated Logout 1.0. Ends the browser's session and every refresh token
 * bound to it; redirects only to a post-logout URI registered for the client.
 */
export const handler = defineWebHandler({
  kind: 'html',
  handle: async ({ query, cookies, deps, origin }, audit) => {
    const secure = isSecureIssuer(deps.config.issuer);
    let clientId = query['client_id'];
    const hint = query['id_token_hint'];
    if (hint) {
      try {
        // Only to learn the client: the hint may be expired, and nothing is granted on its strength.
        const aud = decodeJwt(hint).aud;
        const hinted = Array.isArray(aud) ? aud[0] : aud;
        if (clientId !== undefined && hinted !== clientId) throw new Error('mismatch');
        clientId = hinted;
      } catch {
        const page = errorPage({ title: 'Sign-out failed', message: 'The sign-out request was not valid.', requestId: origin.requestId });
        return { status: 400, headers: page.headers, body: page.body };
      }
    }
    const target = query['post_logout_redirect_uri'];
    let location: string | null = null;
    if (target) {
      const app = clientId ? await deps.identity.store.getApp(clientId) : undefined;
      if (!app || !app.postLogoutRedirectUris.includes(target)) {
        const page = errorPage({ title: 'Sign-out failed', message: 'The application asked to return to an address it has not registered.', requestId: origin.requestId });
        return { status: 400, headers: page.headers, body: page.body };
      }
      location = redirectWith(target, { state: query['state'] ?? null });
    }
    const ended = await deps.identity.login.logout(cookies[SESSION_COOKIE]);
    if (ended) {
      await audit({ action: 'user.logout', outcome: 'Success', tenantId: ended.tenantId, resource: `session:${ended.id}`, actor: { id: ended.userId, type: 'User' }, details: { clientId: clientId ?? null } });
    }
    const clear = [clearSessionCookie(secure)];
    if (location) return { status: 302, headers: { location }, cookies: clear };
    const page = messagePage({ title: 'Signed out', message: 'You have been signed out.' });
    return { status: 200, headers: page.headers, body: page.body, cookies: clear };
  },
});
