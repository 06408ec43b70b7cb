import { validateAuthorizeRequest, redirectWith } from '../../shared/domain/identity/oauth';
import { SESSION_COOKIE } from '../../shared/http/cookies';
import { errorPage } from '../../shared/http/ui/pages';
import { defineWebHandler } from '../../shared/http/web';

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
    if (v.kind === 'redirect-error') {
      return { status: 302, headers: { location: redirectWith(v.redirectUri, { error: v.error, error_description: v.description, state: v.state, iss: deps.config.issuer }) } };
    }
    const result = await deps.identity.login.begin(app!, v, cookies[SESSION_COOKIE]);
    if (result.kind === 'redirect') return { status: 302, headers: { location: result.location } };
    return { status: 302, headers: { location: `${deps.config.issuer}/login?req=${result.request.id}` } };
  },
});
