import { ARCHIVE_LAYOUT } from '../../shared/config/constants';
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
/**
 * The tenant's partitions of both archives (issue #6): before the table walk, so an interrupted run is
 * retried (the queue entry goes last), and once more after it, for objects Firehose was still buffering.
 * In AWS the audit archive is under S3 Object Lock (compliance): a delete there adds a delete marker, the
 * locked versions stay unreadable to the application until their retention ends (doc/adr/0009).
 */
async function purgeArchives(c: ReturnType<typeof container>, tenantId: string): Promise<{ auditObjects: number; billingObjects: number }> {
  const [auditObjects, billingObjects] = await Promise.all([
    c.ingest.objects.auditArchive.deletePrefix(`${ARCHIVE_LAYOUT.auditPrefix}tenant=${tenantId}/`),
    c.ingest.objects.billingArchive.deletePrefix(`${ARCHIVE_LAYOUT.billingPrefix}tenant=${tenantId}/`),
  ]);
  return { auditObjects, billingObjects };
}

export async function handler(event: PurgeJobEvent = {}): Promise<{ purged: { tenantId: string; deletedItems: number; archiveObjects: number }[]; failed: string[] }> {
  const c = container();
  const now = event.now ? new Date(event.now) : c.clock.now();
  const due = await c.tenants.purgeDue(now, BATCH);
  const purged: { tenantId: string; deletedItems: number; archiveObjects: number }[] = [];
  const failed: string[] = [];
  for (const tenantId of due) {
    try {
      const tenant = await c.tenants.get(tenantId);
      // Restored meanwhile (the queue entry is removed in the same write), or not yet due: leave it.
      if (tenant && !purgeDue(tenant, now)) continue;
      const before = await purgeArchives(c, tenantId);
      const r = await c.tenants.purge(tenantId, now);
      const after = await purgeArchives(c, tenantId);
      const archive = { auditObjects: before.auditObjects + after.auditObjects, billingObjects: before.billingObjects + after.billingObjects };
      purged.push({ tenantId, deletedItems: r.deletedItems, archiveObjects: archive.auditObjects + archive.billingObjects });
      await c.audit.write(
        buildAuditRecord(
          {
            actor: { id: 'tenant-purge-job', type: 'System', tenantId: null },
            action: 'tenant.purge',
            resource: `tenant:${tenantId}`,
            outcome: 'Success',
            tenantId: null,
            origin: { requestId: `purge-${now.toISOString()}`, ip: 'internal', userAgent: undefined },
            details: { deletedItems: r.deletedItems, domain: r.domain, archive },
          },
          c.ids.uuid(),
          now,
        ),
      );
      c.log.info('tenant purged', { tenantId, deletedItems: r.deletedItems, ...archive });
    } catch (err) {
      failed.push(tenantId);
      c.log.error('tenant purge failed; the next run resumes it', { tenantId, ...errorFields(err) });
    }
  }
  return { purged, failed };
}
