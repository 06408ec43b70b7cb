import { PutRecordBatchCommand, type FirehoseClient } from '@aws-sdk/client-firehose';
import type { ArchivedRecord, ArchiveStream } from '../../domain/ingest-ports';

const MAX_RECORDS = 500;
/** PutRecordBatch accepts 4 MiB per call. */
const MAX_CALL_BYTES = 4 * 1024 * 1024 - 64 * 1024;
const MAX_ATTEMPTS = 5;

/**
 * Firehose → S3 (dynamic partitioning on `partitionTenant` and `partitionDate`, see lib/). PutRecordBatch
 * succeeds as a call even when some records fail (`FailedPutCount`): those records — and only those —
 * are sent again with backoff; if some still fail, put() rejects and the consumer reports the messages
 * as failed, so SQS redelivers them.
 */
export class FirehoseArchive implements ArchiveStream {
  constructor(private readonly options: { readonly client: FirehoseClient; readonly streamName: string; readonly baseDelayMs?: number }) {}

  async put(records: readonly ArchivedRecord[]): Promise<void> {
    const encoded = records.map((r) => Buffer.from(`${JSON.stringify(r)}\n`));
    let call: Buffer[] = [];
    let bytes = 0;
    for (const data of encoded) {
      if (call.length > 0 && (call.length >= MAX_RECORDS || bytes + data.length > MAX_CALL_BYTES)) {
        await this.putBatch(call);
        call = [];
        bytes = 0;
      }
      call.push(data);
      bytes += data.length;
    }
    if (call.length > 0) await this.putBatch(call);
  }

  private async putBatch(batch: readonly Buffer[]): Promise<void> {
    let pending = batch;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= MAX_ATTEMPTS) throw new Error(`Firehose failed ${pending.length} records after ${MAX_ATTEMPTS} attempts`);
      if (attempt > 0) await new Promise((r) => setTimeout(r, (this.options.baseDelayMs ?? 100) * 2 ** (attempt - 1)));
      const out = await this.options.client.send(new PutRecordBatchCommand({ DeliveryStreamName: this.options.streamName, Records: pending.map((Data) => ({ Data })) }));
      if (!out.FailedPutCount) return;
      const responses = out.RequestResponses ?? [];
      pending = pending.filter((_, i) => responses[i]?.ErrorCode !== undefined);
    }
  }
}
