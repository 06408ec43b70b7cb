import { apiKeyParams, apiKeyView } from '../../shared/domain/apikeys';
import { defineHandler } from '../../shared/http/handler';

/**
 * DELETE /v1/apps/{id}/keys/{keyId} (FR-SYS-002): the key stops working for new requests within the
 * verifiers' cache lifetime (≤ 10 s, SC-003). The record stays, Revoked, for the audit trail.
 */
export const handler = defineHandler({
  auth: 'developer',
  params: apiKeyParams,
  auditAction: 'apikey.revoke',
  handle: async ({ params, principal, deps }) => {
    const key = await deps.apiKeys.revoke(params.id, params.keyId, principal.user.id);
    return { status: 200, body: apiKeyView(key), audit: { resource: `apikey:${key.keyId}`, tenantId: null, details: { appId: key.appId, revokedAt: key.revokedAt } } };
  },
});
