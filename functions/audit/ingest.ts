import { INGEST_LIMITS } from '../../shared/config/constants';
import { rejectIfNothingAccepted, tenantAccessFor } from '../../shared/api/ingest';
import { requireScope } from '../../shared/domain/apikeys';
import type { AuditRecord } from '../../shared/domain/audit';
import { batchItems, ingestBody, packMessages, validateAuditBatch } from '../../shared/domain/ingestion';
import { defineHandler } from '../../shared/http/handler';

/**
 * POST /v1/audit/events (FR-LOG-001, API-LOG): an application's security and operational events, one or
 * a batch of up to 500, with a `log:write` key, into the same queue and consumer as the control plane's
 * own records. Each accepted event gets a record id (the caller's `id`, namespaced by application, or a
 * new one), returned so the caller can correlate. Failures and denials are audited; successful reports
 * are not audited again (that would record every record twice).
 */
export const handler = defineHandler({
  auth: 'apikey',
  body: ingestBody,
  maxBodyBytes: INGEST_LIMITS.maxBodyBytes,
  auditAction: 'audit.ingest',
  handle: async ({ body, principal, deps }) => {
    requireScope(principal, 'log:write');
    const batch = await validateAuditBatch(batchItems(body), { appId: principal.appId, keyId: principal.keyId }, deps.clock.now(), tenantAccessFor(deps, principal.appId), () => deps.ids.uuid());
    rejectIfNothingAccepted(batch);
    const records = batch.accepted.map((a) => a.value);
    await deps.ingest.queues.audit.send(packMessages<AuditRecord>(records, (chunk) => ({ kind: 'audit', records: chunk })));
    return { status: 202, body: { accepted: records.length, rejected: batch.rejected, ids: records.map((r) => r.id) } };
  },
});
