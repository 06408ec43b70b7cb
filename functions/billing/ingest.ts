import { INGEST_LIMITS } from '../../shared/config/constants';
import { rejectIfNothingAccepted, tenantAccessFor } from '../../shared/api/ingest';
import { requireScope } from '../../shared/domain/apikeys';
import { batchItems, ingestBody, packMessages, validateBillingBatch } from '../../shared/domain/ingestion';
import type { BillingEvent } from '../../shared/domain/ingest-ports';
import { defineHandler } from '../../shared/http/handler';

/**
 * POST /v1/billing/events (FR-BILL-002, API-BILL): one event or a batch of up to 500, with a `bill:write`
 * key. Each event is validated on its own; the accepted ones are queued and stored once per idempotency
 * key (`id`, unique per application for 35 days) by the billing consumer. 202: accepted ≠ stored yet.
 * Successful reports are not audited one by one (the events are the record); failures and denials are.
 */
export const handler = defineHandler({
  auth: 'apikey',
  body: ingestBody,
  maxBodyBytes: INGEST_LIMITS.maxBodyBytes,
  auditAction: 'billing.ingest',
  handle: async ({ body, principal, deps }) => {
    requireScope(principal, 'bill:write');
    const batch = await validateBillingBatch(batchItems(body), { appId: principal.appId, keyId: principal.keyId }, deps.clock.now(), tenantAccessFor(deps, principal.appId));
    rejectIfNothingAccepted(batch);
    const events = batch.accepted.map((a) => a.value);
    await deps.ingest.queues.billing.send(packMessages<BillingEvent>(events, (chunk) => ({ kind: 'billing', events: chunk })));
    return { status: 202, body: { accepted: events.length, rejected: batch.rejected, ids: events.map((e) => e.id) } };
  },
});
