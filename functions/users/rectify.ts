import { z } from 'zod';
import { userParams, userView } from '../../shared/api/users';
import { rectifyEmail } from '../../shared/domain/data-subject';
import { subjectOf } from '../../shared/domain/principal';
import { emailSchema } from '../../shared/domain/tenant';
import { defineHandler } from '../../shared/http/handler';

/** The email is the only personal field of a user that anyone may correct (role and status are not personal data). */
const rectifyBody = z.strictObject({ email: emailSchema });

/**
 * PATCH /v1/tenants/{id}/users/{userId}/profile (CON-COMP-001: rectification). The new address must be
 * free in the tenant (ERR-VAL-409). Every session and refresh token of the user ends: ID tokens and
 * userinfo carried the old address. No mail is sent to either address yet (notification mails are a
 * later issue, see doc/privacy.md).
 */
export const handler = defineHandler({
  auth: 'tenant',
  params: userParams,
  body: rectifyBody,
  auditAction: 'user.data.rectify',
  handle: async ({ params, body, principal, deps }) => {
    const now = deps.clock.now();
    const r = await rectifyEmail({ store: deps.dataSubjects, users: deps.users, ids: deps.ids, now }, subjectOf(principal), params.id, params.userId, body.email);
    const sessionsEnded = r.changed ? await deps.identity.store.revokeAllUserSessions(params.id, params.userId, 'email rectified', now.toISOString()) : 0;
    return {
      status: 200,
      body: { user: userView(r.after), changed: r.changed, sessionsEnded },
      // Which field changed, not the addresses: the record stays free of personal data it does not need.
      audit: { resource: `user:${r.after.id}`, tenantId: params.id, details: { fields: r.changed ? ['email'] : [], sessionsEnded } },
    };
  },
});
