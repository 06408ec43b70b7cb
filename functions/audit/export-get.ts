import { z } from 'zod';
import { DynamoAuditExportStore } from '../../shared/adapters/dynamo/audit-export-store';
import { AUDIT_EXPORT_LINK_SECONDS, auditExportDownloadName, auditExportObjectKey, auditExportView, requireAuditReader } from '../../shared/domain/audit-export';
import { NotFoundError } from '../../shared/domain/errors';
import { subjectOf } from '../../shared/domain/principal';
import { defineHandler } from '../../shared/http/handler';

const params = z.strictObject({ id: z.uuid('must be an export id (UUID)') });

/**
 * GET /v1/audit/exports/{id} — the export's status; when Completed, its row count, size, SHA-256 and a
 * fresh download link valid for AUDIT_EXPORT_LINK_SECONDS. Only the auditor who asked for the export may
 * see it: anyone else gets the same 404 as for an id that does not exist (no probing for other exports).
 * Each download link handed out is audited (CON-SEC-002): the file holds personal data.
 */
export const handler = defineHandler({
  auth: 'tenant',
  params,
  auditAction: 'audit.export.download',
  handle: async ({ params, principal, deps }) => {
    requireAuditReader(subjectOf(principal));
    const e = await new DynamoAuditExportStore(deps.db, deps.config.tableName).get(params.id);
    const now = deps.clock.now();
    // Expired: the object is gone (lifecycle) even while TTL has not yet removed the item.
    if (!e || e.requestedBy !== principal.actor.id || Date.parse(e.expiresAt) <= now.getTime()) throw new NotFoundError('No such export.');
    const view = auditExportView(e);
    if (e.status !== 'Completed') return { status: 200, body: view };
    const url = await deps.ingest.objects.exports.presignGet(auditExportObjectKey(e.id), AUDIT_EXPORT_LINK_SECONDS, auditExportDownloadName(e));
    const urlExpiresAt = new Date(now.getTime() + AUDIT_EXPORT_LINK_SECONDS * 1000).toISOString();
    return { status: 200, body: { ...view, url, urlExpiresAt }, audit: { resource: `audit-export:${e.id}`, tenantId: e.filter.tenantId, details: { urlExpiresAt } } };
  },
});
