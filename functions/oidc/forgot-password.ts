import { isAppError } from '../../shared/domain/errors';
import { RATE_LIMITS } from '../../shared/domain/identity/password-reset';
import { csrfToken, csrfValid, isSecureIssuer } from '../../shared/http/cookies';
import { throttle } from '../../shared/http/throttle';
import { forgotPasswordPage } from '../../shared/http/ui/pages';
import { defineWebHandler } from '../../shared/http/web';

/**
 * GET and POST /password/forgot (FR-AUTH-004). The same page follows every submission, whether the
 * account exists or not (CON-SEC-009); throttled per IP and per account (ERR-RATE-429).
 */
export const handler = defineWebHandler({
  kind: 'html',
  handle: async ({ method, query, form, cookies, deps, origin }, audit) => {
    const secure = isSecureIssuer(deps.config.issuer);
    const csrf = csrfToken(cookies, secure);
    const action = `${deps.config.issuer}/password/forgot`;
    const render = (status: number, sent: boolean, error: string | null, tenantDomain: string | null) => {
      const page = forgotPasswordPage({ action, csrf: csrf.token, tenantDomain, error, sent });
      return { status, headers: page.headers, body: page.body, cookies: csrf.setCookie ? [csrf.setCookie] : [] };
    };
    if (method === 'GET') return render(200, false, null, query['tenant'] ?? null);
    const tenantDomain = (form['tenant'] ?? '').trim().toLowerCase();
    const email = (form['email'] ?? '').trim().toLowerCase();
    if (!csrfValid(cookies, form['csrf'])) return render(403, false, 'Your session on this page expired. Please try again.', tenantDomain || null);
    const now = new Date();
    try {
      await throttle(deps.identity.limiter, now, [
        { bucket: 'reset-ip', subject: origin.ip, ...RATE_LIMITS.resetPerIp },
        { bucket: 'reset-account', subject: `${tenantDomain}|${email}`, ...RATE_LIMITS.resetPerAccount },
      ]);
    } catch (err) {
      if (isAppError(err) && err.code === 'ERR-RATE-429') {
        await audit({ action: 'user.password.reset.request', outcome: 'Failure', tenantId: null, resource: `tenant-domain:${tenantDomain.slice(0, 63)}`, details: { code: 'ERR-RATE-429' } });
      }
      throw err;
    }
    const r = await deps.identity.resets.request(tenantDomain, email, origin.ip);
    await audit({
      action: 'user.password.reset.request',
      outcome: r.outcome === 'sent' ? 'Success' : 'Failure',
      tenantId: r.tenantId,
      resource: r.userId ? `user:${r.userId}` : `tenant-domain:${tenantDomain.slice(0, 63)}`,
      details: { outcome: r.outcome },
    });
    return render(200, true, null, null);
  },
});
