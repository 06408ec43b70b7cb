import { z } from 'zod';
import { flagsForApp } from '../../shared/api/flag-delivery';
import { defineHandler } from '../../shared/http/handler';
import { evaluation, OfrepError, ofrepRenderer, ofrepRequest, tenantFromContext } from '../../shared/http/ofrep';

const params = z.strictObject({ key: z.string().min(1).max(64) });

/** POST /ofrep/v1/evaluate/flags/{key} (OFREP v0.3 single evaluation). */
export const handler = defineHandler({
  auth: 'apikey',
  params,
  body: ofrepRequest,
  errorRenderer: ofrepRenderer((path) => decodeURIComponent(path.split('/').pop() ?? '')),
  handle: async ({ params: p, body, principal, deps }) => {
    const tenantId = tenantFromContext(body.context);
    const { flags } = await flagsForApp(deps, principal, tenantId);
    const flag = flags.find((f) => f.key === p.key);
    if (!flag) throw new OfrepError('FLAG_NOT_FOUND', `No flag ${p.key} for this tenant.`);
    return { status: 200, headers: { 'cache-control': 'no-store' }, body: evaluation(flag) };
  },
});
