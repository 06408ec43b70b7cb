import { createHash, timingSafeEqual } from 'node:crypto';
import { isAppError } from '../../shared/domain/errors';
import { checkPassword, describePolicy } from '../../shared/domain/identity/password-policy';
import { parseOpaque } from '../../shared/domain/identity/oauth';
import { hashToken, INVITATION_TOKEN_PREFIX } from '../../shared/domain/provisioning';
import { csrfToken, csrfValid, isSecureIssuer } from '../../shared/http/cookies';
import { errorPage, messagePage, setPasswordPage } from '../../shared/http/ui/pages';
import { defineWebHandler } from '../../shared/http/web';

const INVALID = 'This invitation link is not valid any more. Ask your administrator to send a new one.';

function sameHash(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

/**
 * GET and POST /invitations/accept?token=… (FR-TENANT-001): the invited user chooses a password that
 * satisfies the tenant's policy (FR-AUTH-006) and becomes Active. Single use; expired → ERR-VAL-422 page.
 */
export const handler = defineWebHandler({
  kind: 'html',
  handle: async ({ method, query, form, cookies, deps, origin }, audit) => {
    const token = method === 'POST' ? form['token'] : query['token'];
    const parsed = token ? parseOpaque(INVITATION_TOKEN_PREFIX, token, 2) : null;
    const [tenantId, invitationId] = parsed?.parts ?? [];
    const store = deps.identity.store;
    const invitation = tenantId && invitationId && /^[0-9a-f-]{36}$/.test(invitationId) ? await store.getInvitation(tenantId, invitationId) : undefined;
    const now = new Date();
    const usable = invitation && token && sameHash(invitation.tokenHash, hashToken(token)) && invitation.status === 'Pending';
    if (!usable || !invitation) {
      const page = errorPage({ title: 'Invitation not valid', message: INVALID, requestId: origin.requestId });
      return { status: 404, headers: page.headers, body: page.body };
    }
    if (Date.parse(invitation.expiresAt) <= now.getTime()) {
      await audit({ action: 'invitation.accept', outcome: 'Failure', tenantId: invitation.tenantId, resource: `invitation:${invitation.id}`, details: { code: 'ERR-VAL-422', reason: 'expired' } });
      const page = errorPage({ title: 'Invitation expired', message: 'This invitation has expired. Ask your administrator to send a new one.', requestId: origin.requestId });
      return { status: 422, headers: page.headers, body: page.body };
    }
    const tenant = await store.getTenant(invitation.tenantId);
    const secure = isSecureIssuer(deps.config.issuer);
    const csrf = csrfToken(cookies, secure);
    const policy = (await deps.settings.get(invitation.tenantId)).passwordPolicy;
    const render = (status: number, errors: string[]) => {
      const page = setPasswordPage({
        title: `Join ${tenant?.name ?? 'your organization'}`,
        intro: `Choose a password for ${invitation.email}.`,
        action: `${deps.config.issuer}/invitations/accept`,
        token: token!,
        csrf: csrf.token,
        email: invitation.email,
        hints: describePolicy(policy),
        errors,
        submitLabel: 'Set password and join',
      });
      return { status, headers: page.headers, body: page.body, cookies: csrf.setCookie ? [csrf.setCookie] : [] };
    };
    if (method === 'GET') return render(200, []);
    if (!csrfValid(cookies, form['csrf'])) return render(403, ['Your session on this page expired. Please try again.']);
    const password = form['password'] ?? '';
    const violations = checkPassword(password, policy, { email: invitation.email, ...(tenant ? { tenantDomain: tenant.domain } : {}) });
    if (violations.length > 0) {
      await audit({ action: 'invitation.accept', outcome: 'Failure', tenantId: invitation.tenantId, resource: `invitation:${invitation.id}`, details: { code: 'ERR-VAL-422', rules: violations.map((v) => v.rule) } });
      return render(422, violations.map((v) => v.message));
    }
    try {
      await store.acceptInvitation(invitation, await deps.identity.hasher.hash(password), now.toISOString());
    } catch (err) {
      if (isAppError(err) && err.code === 'ERR-VAL-409') {
        const page = errorPage({ title: 'Invitation not valid', message: INVALID, requestId: origin.requestId });
        return { status: 409, headers: page.headers, body: page.body };
      }
      throw err;
    }
    await audit({ action: 'invitation.accept', outcome: 'Success', tenantId: invitation.tenantId, resource: `user:${invitation.userId}`, actor: { id: invitation.userId, type: 'User' }, details: { invitationId: invitation.id, role: invitation.role } });
    const page = messagePage({ title: 'You are all set', message: `Your password is set. Return to your application and sign in as ${invitation.email}.` });
    return { status: 200, headers: page.headers, body: page.body };
  },
});
