import { isAppError } from '../../shared/domain/errors';
import { RATE_LIMITS } from '../../shared/domain/identity/password-reset';
import { csrfToken, csrfValid, isSecureIssuer, sessionCookie } from '../../shared/http/cookies';
import { throttle } from '../../shared/http/throttle';
import { errorPage, loginPage } from '../../shared/http/ui/pages';
import { defineWebHandler, type WebResult } from '../../shared/http/web';

const EXPIRED = 'This sign-in request has expired or is not valid. Return to the application and sign in again.';

/** GET and POST /login: the Universal Login Page's password step (IF-LOGIN-UI, FR-AUTH-001). */
export const handler = defineWebHandler({
  kind: 'html',
  handle: async ({ method, query, form, cookies, deps, origin, header, log }, audit) => {
    const secure = isSecureIssuer(deps.config.issuer);
    const { login, store } = deps.identity;
    const request = await login.pendingRequest(method === 'POST' ? form['req'] : query['req']);
    // The token path's one-second client cache (ADR-0010): a disabled application is refused here within a second too.
    const app = request ? await store.getAppForGrant(request.clientId) : undefined;
    if (!request || !app || app.status !== 'Active') {
      const page = errorPage({ title: 'Sign-in expired', message: EXPIRED, requestId: origin.requestId });
      return { status: 400, headers: page.headers, body: page.body };
    }
    const csrf = csrfToken(cookies, secure);
    const render = (status: number, error: string | null, tenantDomain: string | null, email: string | null): WebResult => {
      const page = loginPage({ requestId: request.id, csrf: csrf.token, appName: app.name, tenantDomain, email, error, action: `${deps.config.issuer}/login`, forgotUrl: `${deps.config.issuer}/password/forgot${tenantDomain ? `?tenant=${encodeURIComponent(tenantDomain)}` : ''}` });
      return { status, headers: page.headers, body: page.body, cookies: csrf.setCookie ? [csrf.setCookie] : [] };
    };
    if (method === 'GET') return render(200, null, request.tenantDomain, request.loginHint);

    // A cross-site form post carries neither our Strict CSRF cookie nor a matching Origin.
    const originHeader = header('origin');
    if (!csrfValid(cookies, form['csrf']) || (originHeader !== undefined && originHeader !== new URL(deps.config.issuer).origin)) {
      await audit({ action: 'user.login', outcome: 'Failure', tenantId: null, resource: `client:${app.id}`, details: { reason: 'csrf check failed' } });
      return render(403, 'Your session on this page expired. Please try again.', request.tenantDomain, null);
    }
    const tenantDomain = (request.tenantDomain ?? form['tenant'] ?? '').trim().toLowerCase();
    const email = (form['email'] ?? '').trim();
    // Counted before any lookup, for accounts that exist and accounts that do not alike, and before the
    // attempt, so that concurrent attempts cannot slip past the limit; a success gives its units back below.
    const attemptAt = new Date();
    const limits = [
      { bucket: 'login-ip', subject: origin.ip, ...RATE_LIMITS.loginPerIp },
      { bucket: 'login-account', subject: `${tenantDomain}|${email.toLowerCase()}`, ...RATE_LIMITS.loginPerAccount },
    ];
    try {
      await throttle(deps.identity.limiter, attemptAt, limits);
    } catch (err) {
      if (!isAppError(err) || err.code !== 'ERR-RATE-429') throw err;
      await audit({ action: 'user.login', outcome: 'Failure', tenantId: null, resource: `client:${app.id}`, details: { code: 'ERR-RATE-429', tenantDomain: tenantDomain.slice(0, 63) } });
      const page = render(429, 'Too many sign-in attempts. Wait a few minutes and try again.', request.tenantDomain, email || null);
      return { ...page, headers: { ...page.headers, ...err.headers } };
    }
    const result = await login.password(request, app, { tenantDomain, email, password: form['password'] ?? '' }, origin);
    if (!result.ok) {
      await audit({
        action: 'user.login',
        outcome: 'Failure',
        tenantId: result.tenantId,
        resource: result.userId ? `user:${result.userId}` : `client:${app.id}`,
        details: { reason: result.reason, clientId: app.id, ...(result.tenantId ? {} : { tenantDomain: tenantDomain.slice(0, 63) }) },
      });
      return render(401, result.error, request.tenantDomain, email || null);
    }
    // The limits are about failed attempts, as Auth0's and Keycloak's brute-force protection is: a company's
    // people signing in behind one NAT address must not queue at 60 a minute. A success is already visible
    // to the caller, so giving its units back reveals nothing. A failed refund only leaves the unit counted.
    await Promise.all(limits.map((l) => deps.identity.limiter.refund(l.bucket, l.subject, l.windowSeconds, attemptAt))).catch((err: unknown) => log.warn('sign-in throttle refund failed', { error: err instanceof Error ? err.name : 'unknown' }));
    await audit({
      action: 'user.login',
      outcome: 'Success',
      tenantId: result.tenant.id,
      resource: `user:${result.user.id}`,
      actor: { id: result.user.id, type: 'User' },
      details: { clientId: app.id, sessionId: result.session.id, amr: result.session.amr },
    });
    return {
      status: 302,
      headers: { location: result.location },
      cookies: [sessionCookie(result.cookie, secure, deps.config.lifetimes.sessionAbsoluteSeconds)],
    };
  },
});
