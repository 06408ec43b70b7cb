import { etagMatches, flagsEtag, flagsForApp } from '../../shared/api/flag-delivery';
import { defineHandler } from '../../shared/http/handler';
import { evaluation, ofrepRenderer, ofrepRequest, tenantFromContext } from '../../shared/http/ofrep';

/**
 * POST /ofrep/v1/evaluate/flags (OFREP v0.3 bulk evaluation): every flag of the tenant; the ETag is
 * derived from the flag version AND the evaluation context, so a changed context is never served a
 * cached answer; If-None-Match → 304.
 */
export const handler = defineHandler({
  auth: 'apikey',
  body: ofrepRequest,
  errorRenderer: ofrepRenderer(() => undefined),
  handle: async ({ body, principal, deps, header }) => {
    const tenantId = tenantFromContext(body.context);
    const { version, flags } = await flagsForApp(deps, principal, tenantId);
    const etag = flagsEtag(tenantId, version, body.context ?? {});
    if (etagMatches(header('if-none-match'), etag)) return { status: 304, headers: { etag, 'cache-control': 'no-store' } };
    return { status: 200, headers: { etag, 'cache-control': 'no-store' }, body: { flags: flags.map(evaluation) } };
  },
});
