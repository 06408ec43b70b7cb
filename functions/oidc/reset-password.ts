import { isAppError } from '../../shared/domain/errors';
import { csrfToken, csrfValid, isSecureIssuer } from '../../shared/http/cookies';
import { errorPage, messagePage, setPasswordPage } from '../../shared/http/ui/pages';
import { defineWebHandler } from '../../shared/http/web';

const INVALID = 'This reset link is not valid any more. Request a new one from the sign-in page.';

/** GET and POST /password/reset?token=… (FR-AUTH-004): choose a new password; all sessions end. */
export const handler = defineWebHandler({
  kind: 'html',
  handle: async ({ method, query, form, cookies, deps, origin }, audit) => {
    const token = method === 'POST' ? form['token'] : query['token'];
    const resets = deps.identity.resets;
    const loaded = await resets.load(token);
    if (!loaded || !token) {
      const page = errorPage({ title: 'Reset link not valid', message: INVALID, requestId: origin.requestId });
      return { status: 404, headers: page.headers, body: page.body };
    }
    const csrf = csrfToken(cookies, isSecureIssuer(deps.config.issuer));
    const render = (status: number, errors: string[]) => {
      const page = setPasswordPage({ title: 'Choose a new password', intro: `For ${loaded.email}.`, action: `${deps.config.issuer}/password/reset`, token, csrf: csrf.token, email: loaded.email, hints: loaded.hints, errors, submitLabel: 'Set new password' });
      return { status, headers: page.headers, body: page.body, cookies: csrf.setCookie ? [csrf.setCookie] : [] };
    };
    if (method === 'GET') return render(200, []);
    if (!csrfValid(cookies, form['csrf'])) return render(403, ['Your session on this page expired. Please try again.']);
    const resource = `user:${loaded.reset.userId}`;
    try {
      const { sessionsEnded } = await resets.complete(loaded, form['password'] ?? '');
      await audit({ action: 'user.password.reset', outcome: 'Success', tenantId: loaded.reset.tenantId, resource, actor: { id: loaded.reset.userId, type: 'User' }, details: { sessionsEnded } });
    } catch (err) {
      if (isAppError(err) && err.code === 'ERR-VAL-422') {
        await audit({ action: 'user.password.reset', outcome: 'Failure', tenantId: loaded.reset.tenantId, resource, details: { code: err.code, rules: err.issues.map((i) => i.detail.split(':')[0]) } });
        return render(422, err.issues.map((i) => i.detail.slice(i.detail.indexOf(':') + 2)));
      }
      throw err;
    }
    const page = messagePage({ title: 'Password changed', message: 'Your password has been changed and you have been signed out everywhere. Sign in again from your application.' });
    return { status: 200, headers: page.headers, body: page.body };
  },
});
