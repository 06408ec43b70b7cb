import { userParams } from '../../shared/api/users';
import { exportUserData } from '../../shared/domain/data-subject';
import { subjectOf } from '../../shared/domain/principal';
import { defineHandler } from '../../shared/http/handler';

/**
 * GET /v1/tenants/{id}/users/{userId}/export (CON-COMP-001: access and portability). The tenant's Owner
 * or Administrator answers the data subject's request with this file. Audited although it changes
 * nothing: who disclosed whose personal data, and when, is itself accountability data (GDPR Art. 5(2)).
 */
export const handler = defineHandler({
  auth: 'tenant',
  params: userParams,
  auditAction: 'user.data.export',
  handle: async ({ params, principal, deps }) => {
    const doc = await exportUserData({ store: deps.dataSubjects, users: deps.users, ids: deps.ids, now: deps.clock.now() }, subjectOf(principal), params.id, params.userId);
    return {
      status: 200,
      body: doc,
      headers: { 'content-disposition': `attachment; filename="user-${doc.profile.id}.json"` },
      // Counts only: the audit record must not become a second copy of the export.
      audit: {
        resource: `user:${doc.profile.id}`,
        tenantId: params.id,
        details: {
          format: doc.format,
          sessions: doc.sessions.length,
          refreshFamilies: doc.refreshFamilies.length,
          invitations: doc.invitations.length,
          // not `passwordResets`: the audit scrubber drops keys that look like secrets
          resets: doc.passwordResets.length,
          auditRecords: doc.auditRecords.length,
        },
      },
    };
  },
});
