import { DynamoAuditExportStore } from '../../shared/adapters/dynamo/audit-export-store';
import { RETENTION } from '../../shared/config/constants';
import { auditExportBody, filterView, newAuditExport, requireAuditReader } from '../../shared/domain/audit-export';
import { subjectOf } from '../../shared/domain/principal';
import { defineHandler } from '../../shared/http/handler';

/**
 * POST /v1/audit/exports — Auditors only (FR-LOG-002, UC-AUDIT-EXPORT): records the export (Pending) and
 * queues it; the job (functions/jobs/audit-export.ts) writes the CSV. 202 with the export's id and a
 * Location to poll. The request is audited (`audit.export.request`), and so is the export itself.
 */
export const handler = defineHandler({
  auth: 'tenant',
  body: auditExportBody,
  auditAction: 'audit.export.request',
  handle: async ({ body, principal, deps }) => {
    requireAuditReader(subjectOf(principal));
    const e = newAuditExport({ id: deps.ids.uuid(), filter: body, requestedBy: principal.actor.id, now: deps.clock.now(), retentionDays: RETENTION.exportDays });
    await new DynamoAuditExportStore(deps.db, deps.config.tableName).create(e);
    // Item first, then the message: a message never points at nothing. If the send fails the request fails
    // (500) and the Pending item is left to expire with its TTL.
    await deps.ingest.queues.export.send([{ kind: 'export', exportId: e.id }]);
    return {
      status: 202,
      body: { id: e.id, status: e.status },
      headers: { location: `/v1/audit/exports/${e.id}` },
      audit: { resource: `audit-export:${e.id}`, tenantId: body.tenantId, details: { exportId: e.id, filter: filterView(body) } },
    };
  },
});
