import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { consumeBillingBatch } from '../../shared/api/ingest-consumer';
import { container } from '../../shared/composition';

/** The billing queue's consumer (FR-BILL-001): SQS event source with partial batch responses. */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const { batchItemFailures } = await consumeBillingBatch(container(), event);
  return { batchItemFailures };
}
