import { container } from '../../shared/composition';
import { buildAuditRecord } from '../../shared/domain/audit';
import { purgeDue } from '../../shared/domain/tenant-lifecycle';
import { errorFields } from '../../shared/http/logger';

export interface PurgeJobEvent {
  /** Only for tests and operators replaying a run: the job's notion of "now". EventBridge sends none. */
  readonly now?: string;
}

const BATCH = 25;

/**
 * The tenant purge job (FR-OPS-002): an EventBridge schedule in AWS, a timer in local mode, both calling
 * this. Each due tenant is purged completely; a run that dies half-way is finished by the next one.
 */
export async function handler(event: PurgeJobEvent = {}): Promise<{ purged: { tenantId: string; deletedItems: number }[]; failed: string[] }> {
  const c = container();
  const now = event.now ? new Date(event.now) : c.clock.now();
  const due = await c.tenants.purgeDue(now, BATCH);
  const purged: { tenantId: string; deletedItems: number }[] = [];
  const failed: string[] = [];
  for (const tenantId of due) {
    try {
      const tenant = await c.tenants.get(tenantId);
      // Restored meanwhile (the queue entry is removed in the same write), or not yet due: leave it.
      if (tenant && !purgeDue(tenant, now)) continue;
      const r = await c.tenants.purge(tenantId, now);
      purged.push({ tenantId, deletedItems: r.deletedItems });
      await c.audit.write(
        buildAuditRecord(
          {
            actor: { id: 'tenant-purge-job', type: 'System', tenantId: null },
            action: 'tenant.purge',
            resource: `tenant:${tenantId}`,
            outcome: 'Success',
            tenantId: null,
            origin: { requestId: `purge-${now.toISOString()}`, ip: 'internal', userAgent: undefined },
            details: { deletedItems: r.deletedItems, domain: r.domain },
          },
          c.ids.uuid(),
          now,
        ),
      );
      c.log.info('tenant purged', { tenantId, deletedItems: r.deletedItems });
    } catch (err) {
      failed.push(tenantId);
      c.log.error('tenant purge failed; the next run resumes it', { tenantId, ...errorFields(err) });
    }
  }
  return { purged, failed };
}
