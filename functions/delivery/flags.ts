import { z } from 'zod';
import { etagMatches, FLAG_CACHE_MAX_AGE_SECONDS, flagsEtag, flagsForApp } from '../../shared/api/flag-delivery';
import { defineHandler } from '../../shared/http/handler';

const query = z.strictObject({ tenantId: z.uuid('must be a tenant id (UUID)') });

/**
 * GET /v1/flags?tenantId=… (FR-FLAG-002, API-FLAG): one tenant's flags for a managed application with a
 * `flag:read` API key. Strong ETag from the flag version; If-None-Match → 304; short max-age.
 */
export const handler = defineHandler({
  auth: 'apikey',
  query,
  handle: async ({ query: q, principal, deps, header }) => {
    const { version, flags } = await flagsForApp(deps, principal, q.tenantId);
    const etag = flagsEtag(q.tenantId, version);
    const cache = { etag, 'cache-control': `private, max-age=${FLAG_CACHE_MAX_AGE_SECONDS}` };
    if (etagMatches(header('if-none-match'), etag)) return { status: 304, headers: cache };
    return { status: 200, headers: cache, body: { tenantId: q.tenantId, version, flags: Object.fromEntries(flags.map((f) => [f.key, f.value])), details: flags } };
  },
});
