import { z } from 'zod';
import { BusinessRuleError, NotFoundError } from '../../shared/domain/errors';
import { passwordChangedMail } from '../../shared/domain/identity/mail-templates';
import { assertPasswordAcceptable } from '../../shared/domain/identity/password-policy';
import { defineHandler } from '../../shared/http/handler';
import { errorFields } from '../../shared/http/logger';

const body = z.strictObject({
  currentPassword: z.string().min(1, 'is required').max(4096, 'is too long'),
  newPassword: z.string().min(1, 'is required').max(4096, 'is too long'),
});

/**
 * POST /v1/me/password (FR-AUTH-004): an authenticated user changes their password. The current password
 * is required; the new one must satisfy the policy (ERR-VAL-422 naming each rule); success ends every
 * session and refresh token of the user, including the caller's.
 */
export const handler = defineHandler({
  auth: 'user',
  body,
  auditAction: 'user.password.change',
  handle: async ({ body: b, principal, deps, log }) => {
    const { store, hasher, mailer } = deps.identity;
    const [user, tenant] = await Promise.all([store.getUser(principal.tenantId, principal.userId), store.getTenant(principal.tenantId)]);
    if (!user || !tenant) throw new NotFoundError('No such user.');
    if (!user.passwordHash || !(await hasher.verify(user.passwordHash, b.currentPassword))) {
      throw new BusinessRuleError('The current password is not correct.', [{ location: 'body', pointer: '/currentPassword', detail: 'is not correct' }]);
    }
    assertPasswordAcceptable(b.newPassword, (await deps.settings.get(user.tenantId)).passwordPolicy, { email: user.email, tenantDomain: tenant.domain });
    const at = deps.clock.now();
    await store.setPassword(user.tenantId, user.id, await hasher.hash(b.newPassword), at.toISOString(), false);
    const sessionsEnded = await store.revokeAllUserSessions(user.tenantId, user.id, 'password change', at.toISOString());
    try {
      await mailer.send(passwordChangedMail({ to: user.email, tenantId: user.tenantId, at }));
    } catch (err) {
      log.error('password-changed mail failed', errorFields(err));
    }
    return { status: 200, body: { changed: true, sessionsEnded }, audit: { resource: `user:${user.id}`, tenantId: user.tenantId, details: { sessionsEnded } } };
  },
});
