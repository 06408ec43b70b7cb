import { PLATFORM_PARTITIONS, RETENTION } from '../../shared/config/constants';
import { container } from '../../shared/composition';
import { DynamoRetentionStore } from '../../shared/adapters/dynamo/retention-store';
import { buildAuditRecord } from '../../shared/domain/audit';
import { errorFields } from '../../shared/http/logger';

export interface RetentionJobEvent {
  /** Only for tests and operators replaying a run: the job's notion of "now". EventBridge sends none. */
  readonly now?: string;
}

export interface RetentionRun {
  readonly auditCutoff: string;
  readonly billingCutoff: string;
  readonly expired: readonly { readonly partition: string; readonly auditRecords: number; readonly billingEvents: number; readonly billingDaySums: number }[];
  readonly failed: readonly string[];
}

const DAY_MS = 86_400_000;

/**
 * FR-OPS-003, CON-DATA-002/003: deletes audit records older than 7 years and billing events older than 5
 * (RETENTION, the same numbers the table TTL backstop and the S3 lifecycle rules use) and audits each
 * deletion: one `retention.expire` record per partition that lost something, naming the counts and the
 * cut-off — never the deleted content. A daily EventBridge schedule in AWS, a timer in local mode.
 * S3 deletes its archive objects by lifecycle rule; S3 server access logs record those expirations.
 */
export async function handler(event: RetentionJobEvent = {}): Promise<RetentionRun> {
  const c = container();
  const now = event.now ? new Date(event.now) : c.clock.now();
  const auditCutoff = new Date(now.getTime() - RETENTION.auditDays * DAY_MS).toISOString();
  const billingCutoff = new Date(now.getTime() - RETENTION.billingDays * DAY_MS).toISOString();
  const store = new DynamoRetentionStore(c.db, c.config.tableName);
  const expired: { partition: string; auditRecords: number; billingEvents: number; billingDaySums: number }[] = [];
  const failed: string[] = [];

  const sweep = async (pk: string, tenantId: string | null): Promise<void> => {
    try {
      const auditRecords = await store.deleteRange(pk, 'AUDIT#', auditCutoff);
      const billingEvents = tenantId === null ? 0 : await store.deleteRange(pk, 'BILL#', billingCutoff);
      // A day's sum goes when the whole day is past the cut-off.
      const billingDaySums = tenantId === null ? 0 : await store.deleteRange(pk, 'BILLSUM#', billingCutoff.slice(0, 10));
      if (auditRecords + billingEvents + billingDaySums === 0) return;
      expired.push({ partition: pk, auditRecords, billingEvents, billingDaySums });
      await c.audit.write(
        buildAuditRecord(
          {
            actor: { id: 'retention-job', type: 'System', tenantId: null },
            action: 'retention.expire',
            resource: tenantId === null ? 'platform' : `tenant:${tenantId}`,
            outcome: 'Success',
            tenantId,
            origin: { requestId: `retention-${now.toISOString()}`, ip: 'internal', userAgent: undefined },
            details: { auditRecords, billingEvents, billingDaySums, auditCutoff, billingCutoff, retentionDays: { audit: RETENTION.auditDays, billing: RETENTION.billingDays } },
          },
          c.ids.uuid(),
          now,
        ),
      );
    } catch (err) {
      failed.push(pk);
      c.log.error('retention sweep failed; the next run resumes it', { partition: pk, ...errorFields(err) });
    }
  };

  await sweep(PLATFORM_PARTITIONS.audit, null);
  let cursor: string | undefined;
  do {
    const page = await c.tenants.list({ limit: 100, cursor });
    for (const t of page.items) await sweep(`TENANT#${t.id}`, t.id);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  c.log.info('retention run', { auditCutoff, billingCutoff, partitions: expired.length, failed: failed.length });
  return { auditCutoff, billingCutoff, expired, failed };
}
