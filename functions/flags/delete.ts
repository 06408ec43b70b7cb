import { loadTenant } from '../../shared/api/tenant-lookup';
import { changeFlags, deliveredFlag, flagState, unsetOverride } from '../../shared/domain/flags';
import { defineHandler } from '../../shared/http/handler';
import { flagParams } from './set';

/**
 * DELETE /v1/tenants/{id}/flags/{key} (FR-FLAG-001): removes an override; the plan's default comes back
 * when the tenant's plan has the key. 404 when the flag is not overridden.
 */
export const handler = defineHandler({
  auth: 'operator',
  params: flagParams,
  auditAction: 'flag.unset',
  handle: async ({ params, deps }) => {
    const tenant = await loadTenant(deps, params.id);
    const at = deps.clock.now().toISOString();
    const { result, version } = await changeFlags(deps.flags, params.id, at, (current) => {
      const r = unsetOverride(current, params.id, params.key, tenant.plan, at);
      return { changes: r.changes, result: r };
    });
    const restored = result.restored === undefined ? undefined : deliveredFlag(result.restored);
    return {
      status: 200,
      body: { version, flag: restored ?? null },
      audit: { resource: `tenant:${params.id}/flag:${params.key}`, tenantId: params.id, details: { key: params.key, previous: flagState(result.previous), next: flagState(restored), version } },
    };
  },
});
