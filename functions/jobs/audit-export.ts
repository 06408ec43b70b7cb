import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DynamoAuditExportStore } from '../../shared/adapters/dynamo/audit-export-store';
import { DynamoAuditSearch } from '../../shared/adapters/dynamo/audit-query';
import { container } from '../../shared/composition';
import { runAuditExport } from '../../shared/domain/audit-export';
import { parseQueueMessage } from '../../shared/domain/ingestion';
import { errorFields } from '../../shared/http/logger';

/**
 * The export queue's consumer (FR-LOG-002, UC-AUDIT-EXPORT): streams one export's CSV into the exports
 * bucket (shared/domain/audit-export.ts, runAuditExport). SQS event source with partial batch responses:
 * a failed export is reported in batchItemFailures, so SQS redelivers it (maxReceiveCount, then the DLQ);
 * a message that can never succeed (not JSON, not an export) fails too and so ends in the DLQ, where the
 * alarm sees it. Redelivery of a finished export does nothing (idempotent).
 */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const c = container();
  const deps = {
    exports: new DynamoAuditExportStore(c.db, c.config.tableName),
    search: new DynamoAuditSearch(c.db, c.config.tableName),
    objects: c.ingest.objects.exports,
    writeAudit: (record: Parameters<typeof c.audit.write>[0]) => c.audit.write(record),
    now: () => c.clock.now(),
    newId: () => c.ids.uuid(),
    warn: (message: string, fields: Record<string, unknown>) => c.log.warn(message, fields),
  };
  const batchItemFailures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    try {
      const message = parseQueueMessage(record.body);
      if (message.kind !== 'export') throw new Error(`the export queue got a ${message.kind} message`);
      const started = Date.now();
      const outcome = await runAuditExport(deps, message.exportId);
      c.log.info('audit export handled', { exportId: message.exportId, outcome, ms: Date.now() - started });
    } catch (err) {
      c.log.error('audit export failed; the message will be retried', { messageId: record.messageId, ...errorFields(err) });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}
