import { z } from 'zod';
import { loadTenant } from '../../shared/api/tenant-lookup';
import { tenantView } from '../../shared/api/tenants';
import { tenantParams } from '../../shared/api/users';
import { BusinessRuleError } from '../../shared/domain/errors';
import { subjectOf } from '../../shared/domain/principal';
import { PLANS } from '../../shared/domain/tenant';
import { planFlagChanges } from '../../shared/domain/tenant-settings';
import { requirePermission } from '../../shared/domain/user-admin';
import { defineHandler } from '../../shared/http/handler';

const body = z.strictObject({ plan: z.enum(PLANS) });

/**
 * PUT /v1/tenants/{id}/plan (FR-TENANT-003): only an Owner (or an operator) changes the contract; the
 * plan's flags follow, overrides survive (FR-FLAG-001).
 */
export const handler = defineHandler({
  auth: 'tenant',
  params: tenantParams,
  body,
  auditAction: 'tenant.plan.update',
  handle: async ({ params, body: b, principal, deps }) => {
    requirePermission(subjectOf(principal), 'tenant.plan.update', params.id);
    const before = await loadTenant(deps, params.id);
    if (before.status !== 'Active') throw new BusinessRuleError(`The tenant is ${before.status}.`);
    const now = deps.clock.now().toISOString();
    const after = before.plan === b.plan ? before : { ...before, plan: b.plan, updatedAt: now };
    if (after !== before) await deps.tenants.save(after, before);
    // Recomputed from the plan every time, so a retry after a failure here converges.
    const changes = planFlagChanges(await deps.settings.flags(params.id), params.id, b.plan, now);
    await deps.settings.applyFlagChanges(params.id, changes);
    const flags = await deps.settings.flags(params.id);
    return {
      status: 200,
      body: { tenant: tenantView(after), flags: flags.map((f) => ({ key: f.key, value: f.value, source: f.source })) },
      audit: { resource: `tenant:${params.id}`, tenantId: params.id, details: { previous: before.plan, next: b.plan, flagsChanged: changes.put.map((f) => f.key), flagsRemoved: changes.remove } },
    };
  },
});
