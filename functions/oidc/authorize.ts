import { verifyIdTokenHint } from '../../shared/domain/identity/id-token-hint';
import { validateAuthorizeRequest, redirectWith } from '../../shared/domain/identity/oauth';
import { SESSION_COOKIE } from '../../shared/http/cookies';
import { errorPage } from '../../shared/http/ui/pages';
import { defineWebHandler, type WebResult } from '../../shared/http/web';

/**
 * GET and POST /authorize (OIDC Core §3.1.2; §3.1.2.1: POST carries the same parameters form-encoded). An
 * untrusted client or redirect URI gets an error page and is never redirected to; every other error goes
 * back to the client. A live session signs in at once (SSO). A POST from the app's own site arrives
 * without the SameSite=Lax session cookie, so it always shows the login form (prompt=none: login_required).
 */
export const handler = defineWebHandler({
  kind: 'html',
  handle: async ({ method, query: url, form, cookies, deps, origin }, audit) => {
    const query = method === 'POST' ? form : url;
    const app = query['client_id'] ? await deps.identity.store.getApp(query['client_id']) : undefined;
    const v = validateAuthorizeRequest(query, app);
    if (v.kind === 'error-page') {
      await audit({ action: 'oauth.authorize', outcome: 'Failure', tenantId: null, resource: `client:${query['client_id'] ?? '-'}`, details: { reason: v.reason } });
      const page = errorPage({ title: v.title, message: 'The application sent an invalid sign-in request. Contact its developer.', requestId: origin.requestId });
      return { status: 400, headers: page.headers, body: page.body };
    }
    const backWithError = (redirectUri: string, state: string | null, error: string, description: string): WebResult => ({
      status: 302,
      headers: { location: redirectWith(redirectUri, { error, error_description: description, state, iss: deps.config.issuer }) },
    });
    if (v.kind === 'redirect-error') return backWithError(v.redirectUri, v.state, v.error, v.description);
    let hint: { sub: string; tenantId: string | null } | undefined;
    if (query['id_token_hint']) {
      // OIDC Core §3.1.2.1: an ID token we issued to this client (it may have expired) naming the expected user.
      const verified = await verifyIdTokenHint(query['id_token_hint'], await deps.identity.keys.publicJwks(), deps.config.issuer);
      if (!verified || verified.clientId !== app!.id) return backWithError(v.redirectUri, v.state, 'invalid_request', 'id_token_hint is not valid');
      hint = { sub: verified.sub, tenantId: verified.tenantId };
    }
    const result = await deps.identity.login.begin(app!, v, cookies[SESSION_COOKIE], hint);
    if (result.kind === 'redirect') return { status: 302, headers: { location: result.location } };
    return { status: 302, headers: { location: `${deps.config.issuer}/login?req=${result.request.id}` } };
  },
});
