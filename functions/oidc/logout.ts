import { verifyIdTokenHint } from '../../shared/domain/identity/id-token-hint';
import { redirectWith } from '../../shared/domain/identity/oauth';
import { clearSessionCookie, csrfToken, csrfValid, isSecureIssuer, SESSION_COOKIE } from '../../shared/http/cookies';
import { errorPage, logoutConfirmPage, messagePage } from '../../shared/http/ui/pages';
import { defineWebHandler, type WebResult } from '../../shared/http/web';

/**
 * GET and POST /logout: OpenID Connect RP-Initiated Logout 1.0. Ends the browser's session and every
 * refresh token bound to it; redirects only to a post-logout URI registered for the client.
 *
 * - An `id_token_hint` must be an ID token we issued (signature, issuer, type; expiry is not checked, §2);
 *   anything else gets an error page, no redirect, and the session stays.
 * - A valid hint for this browser's session signs out at once, as apps expect. Without one, or with a
 *   hint for another session, anyone's page could have sent the browser here, so the person confirms on
 *   a CSRF-protected form first (§6; Keycloak does the same).
 * - A valid hint when the browser sent no session cookie ends the session the hint names. That is the
 *   case of an app that POSTs the logout form from its own site: the SameSite=Lax session cookie does not
 *   travel on a cross-site POST, and the hint, which only that app and this user hold, names the session.
 */
export const handler = defineWebHandler({
  kind: 'html',
  handle: async ({ method, query, form, cookies, deps, origin }, audit) => {
    const secure = isSecureIssuer(deps.config.issuer);
    const p = method === 'POST' ? form : query;
    const refuse = async (reason: string, message: string): Promise<WebResult> => {
      await audit({ action: 'user.logout', outcome: 'Failure', tenantId: null, resource: `client:${p['client_id'] ?? '-'}`, details: { reason } });
      const page = errorPage({ title: 'Sign-out failed', message, requestId: origin.requestId });
      return { status: 400, headers: page.headers, body: page.body };
    };

    let clientId = p['client_id'];
    let hinted: { tenantId: string; userId: string; id: string } | null = null;
    const rawHint = p['id_token_hint'];
    if (rawHint) {
      const hint = await verifyIdTokenHint(rawHint, await deps.identity.keys.publicJwks(), deps.config.issuer);
      if (!hint) return refuse('id_token_hint not issued by this provider', 'The sign-out request was not valid.');
      if (clientId !== undefined && hint.clientId !== clientId) return refuse('id_token_hint of another client', 'The sign-out request was not valid.');
      clientId = hint.clientId;
      if (hint.sid && hint.tenantId) hinted = { tenantId: hint.tenantId, userId: hint.sub, id: hint.sid };
    }
    const app = clientId ? await deps.identity.store.getApp(clientId) : undefined;
    const target = p['post_logout_redirect_uri'];
    let location: string | null = null;
    if (target) {
      if (!app || !app.postLogoutRedirectUris.includes(target)) {
        return refuse('post_logout_redirect_uri not registered', 'The application asked to return to an address it has not registered.');
      }
      location = redirectWith(target, { state: p['state'] ?? null });
    }

    const cookie = cookies[SESSION_COOKIE];
    const current = cookie ? await deps.identity.login.currentSession(cookie) : null;
    if (current && hinted?.id !== current.session.id) {
      const confirming = method === 'POST' && p['confirm'] !== undefined;
      if (confirming && !csrfValid(cookies, p['csrf'])) {
        await audit({ action: 'user.logout', outcome: 'Failure', tenantId: current.session.tenantId, resource: `session:${current.session.id}`, actor: { id: current.session.userId, type: 'User' }, details: { reason: 'csrf' } });
        const page = errorPage({ title: 'Sign-out failed', message: 'This page expired. Please try again.', requestId: origin.requestId });
        return { status: 403, headers: page.headers, body: page.body };
      }
      if (!confirming) {
        const csrf = csrfToken(cookies, secure);
        // The request, carried on to the confirmation's POST (the verified hint has become client_id).
        const carry: Record<string, string> = {};
        for (const [k, v] of Object.entries({ client_id: clientId, post_logout_redirect_uri: target, state: p['state'] })) if (v) carry[k] = v;
        const page = logoutConfirmPage({ action: `${deps.config.issuer}/logout`, csrf: csrf.token, who: current.user.email, organization: current.tenant.domain, appName: app?.name ?? null, carry });
        return { status: 200, headers: page.headers, body: page.body, cookies: csrf.setCookie ? [csrf.setCookie] : [] };
      }
    }
    const ending = current?.session ?? hinted;
    if (ending && (await deps.identity.login.endSession(ending))) {
      await audit({ action: 'user.logout', outcome: 'Success', tenantId: ending.tenantId, resource: `session:${ending.id}`, actor: { id: ending.userId, type: 'User' }, details: { clientId: clientId ?? null, confirmed: hinted?.id !== ending.id, cookie: current !== null } });
    }
    const clear = [clearSessionCookie(secure)];
    if (location) return { status: 302, headers: { location }, cookies: clear };
    const page = messagePage({ title: 'Signed out', message: 'You have been signed out.' });
    return { status: 200, headers: page.headers, body: page.body, cookies: clear };
  },
});
