import { z } from 'zod';
import { userParams } from '../../shared/api/users';
import { erasureEvidenceParts, eraseUser } from '../../shared/domain/data-subject';
import { subjectOf } from '../../shared/domain/principal';
import { writeAudit } from '../../shared/http/audit';
import { defineHandler } from '../../shared/http/handler';

/**
 * `confirm` is optional in the schema on purpose: leaving it out is a business-rule refusal (ERR-VAL-422,
 * "confirm with the address"), not malformed input; the domain compares it with the user's address.
 */
const eraseBody = z.strictObject({ confirm: z.string().max(320).optional() });

/**
 * POST /v1/tenants/{id}/users/{userId}/erase (CON-COMP-001: right to erasure), by pseudonymisation: the
 * user's items are deleted, audit records about them lose every address and connection detail, and a
 * tombstone proves the erasure (doc/privacy.md). Refused for the tenant's last active Owner.
 */
export const handler = defineHandler({
  auth: 'tenant',
  params: userParams,
  body: eraseBody,
  auditAction: 'user.data.erase',
  handle: async ({ params, body, principal, deps, origin, log }) => {
    const e = await eraseUser({ store: deps.dataSubjects, users: deps.users, ids: deps.ids, now: deps.clock.now() }, subjectOf(principal), params.id, params.userId, body.confirm);
    const result = { erased: true, userId: e.userId, pseudonymId: e.pseudonymId, erasedAt: e.erasedAt, removed: e.removed, auditRecordsPseudonymised: e.auditRecordsPseudonymised };
    // Tamper evidence (ADR-0008): the records list the rewritten audit records with their new hashes, so
    // `cpctl audit verify` reports them as pseudonymised rather than altered. Past the first part, extra records.
    const [first, ...more] = erasureEvidenceParts(e.rewrittenAuditRecords);
    for (const part of more) {
      await writeAudit(deps, log, { actor: principal.actor, action: 'user.data.erase.evidence', resource: `user:${e.userId}`, outcome: 'Success', tenantId: params.id, origin, details: { pseudonymId: e.pseudonymId, ...part } });
    }
    // The record names the user by id and pseudonym only; the actor's own origin is added as on every record.
    return { status: 200, body: result, audit: { resource: `user:${e.userId}`, tenantId: params.id, details: { pseudonymId: e.pseudonymId, removed: e.removed, auditRecordsPseudonymised: e.auditRecordsPseudonymised, ...first } } };
  },
});
