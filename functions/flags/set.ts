import { z } from 'zod';
import { loadTenant } from '../../shared/api/tenant-lookup';
import { changeFlags, deliveredFlag, flagKeySchema, flagState, overrideFlag, setFlagBody } from '../../shared/domain/flags';
import { defineHandler } from '../../shared/http/handler';

export const flagParams = z.strictObject({ id: z.uuid('must be a tenant id (UUID)'), key: flagKeySchema });

/**
 * PUT /v1/tenants/{id}/flags/{key} (FR-FLAG-001): sets an operator override, of any type — also over a
 * plan flag, and also changing an existing override's type. Overrides survive plan changes.
 */
export const handler = defineHandler({
  auth: 'operator',
  params: flagParams,
  body: setFlagBody,
  auditAction: 'flag.set',
  handle: async ({ params, body, deps }) => {
    await loadTenant(deps, params.id);
    const next = overrideFlag(params.id, params.key, body, deps.clock.now().toISOString());
    const { result: previous, version } = await changeFlags(deps.flags, params.id, next.updatedAt, (current) => ({
      changes: { put: [next], remove: [] },
      result: current.flags.find((f) => f.key === params.key),
    }));
    const flag = deliveredFlag(next);
    return {
      status: 200,
      body: { version, flag },
      audit: { resource: `tenant:${params.id}/flag:${params.key}`, tenantId: params.id, details: { key: params.key, previous: flagState(previous), next: flagState(flag), version } },
    };
  },
});
