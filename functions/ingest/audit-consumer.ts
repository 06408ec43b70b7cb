import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { consumeAuditBatch } from '../../shared/api/ingest-consumer';
import { container } from '../../shared/composition';

/** The audit queue's consumer (FR-LOG-001/003): SQS event source with partial batch responses. */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const { batchItemFailures } = await consumeAuditBatch(container(), event);
  return { batchItemFailures };
}
