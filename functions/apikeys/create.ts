import { appIdParams } from '../../shared/api/apps';
import { apiKeyView, createApiKeyBody } from '../../shared/domain/apikeys';
import { defineHandler } from '../../shared/http/handler';

/**
 * POST /v1/apps/{id}/keys (FR-SYS-002): the full key is in this response and nowhere else; the table keeps
 * only its hash. Any developer may issue keys for any application: there is no app ownership model yet.
 */
export const handler = defineHandler({
  auth: 'developer',
  params: appIdParams,
  body: createApiKeyBody,
  auditAction: 'apikey.create',
  handle: async ({ params, body, principal, deps }) => {
    const { record, key } = await deps.apiKeys.issue(params.id, body, principal.user.id);
    return {
      status: 201,
      headers: { location: `/v1/apps/${params.id}/keys/${record.keyId}`, 'cache-control': 'no-store' },
      body: { ...apiKeyView(record), key, warning: 'The key is shown only now: store it in your secret manager.' },
      audit: { resource: `apikey:${record.keyId}`, tenantId: null, details: { appId: record.appId, name: record.name, scopes: record.scopes, expiresAt: record.expiresAt } },
    };
  },
});
