/**
 * Issue #6: the AWS adapters of the ingestion pipeline, against aws-sdk-client-mock (no local stand-in for
 * Firehose or SQS): partial failures are retried for the failed entries only, and never hidden.
 */
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { FirehoseArchive } from '../../shared/adapters/aws/firehose-archive';
import { SqsQueue } from '../../shared/adapters/aws/sqs-queue';
import type { ArchivedRecord, QueueMessage } from '../../shared/domain/ingest-ports';

const firehose = mockClient(FirehoseClient);
const sqs = mockClient(SQSClient);
beforeEach(() => {
  firehose.reset();
  sqs.reset();
});

function records(n: number): ArchivedRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    partitionTenant: 't1',
    partitionDate: '2026-11-21',
    record: { id: `r${i}`, appId: 'a', tenantId: 't1', timestamp: '2026-11-21T00:00:00.000Z', type: 'x', quantity: i, metadata: {}, receivedAt: '2026-11-21T00:00:00.000Z', keyId: 'k' },
  }));
}
const decoded = (input: { Records?: { Data?: Uint8Array }[] }): string[] => (input.Records ?? []).map((r) => (JSON.parse(Buffer.from(r.Data!).toString('utf8')) as ArchivedRecord).record.id);

describe('FirehoseArchive (issue #6 acceptance: Firehose partial failure retried)', () => {
  it('FR-BILL-001: records of a FailedPutCount response are sent again, and only those', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .resolvesOnce({ FailedPutCount: 2, Encrypted: true, RequestResponses: [{ RecordId: '1' }, { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'slow down' }, { RecordId: '3' }, { ErrorCode: 'InternalFailure' }] })
      .resolvesOnce({ FailedPutCount: 0, RequestResponses: [{ RecordId: '5' }, { RecordId: '6' }] });
    await new FirehoseArchive({ client: firehose as unknown as FirehoseClient, streamName: 'audit', baseDelayMs: 1 }).put(records(4));
    const calls = firehose.commandCalls(PutRecordBatchCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.args[0].input.DeliveryStreamName).toBe('audit');
    expect(decoded(calls[0]!.args[0].input)).toEqual(['r0', 'r1', 'r2', 'r3']);
    expect(decoded(calls[1]!.args[0].input)).toEqual(['r1', 'r3']);
  });

  it('FR-BILL-001: records still failing after the last attempt make put() reject (the consumer then fails the messages)', async () => {
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 1, RequestResponses: [{ ErrorCode: 'ServiceUnavailableException' }] });
    await expect(new FirehoseArchive({ client: firehose as unknown as FirehoseClient, streamName: 'audit', baseDelayMs: 1 }).put(records(1))).rejects.toThrow(/failed 1 records/);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(5);
  });

  it('FR-BILL-001: batches respect the 500-record limit of PutRecordBatch', async () => {
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0, RequestResponses: [] });
    await new FirehoseArchive({ client: firehose as unknown as FirehoseClient, streamName: 'billing' }).put(records(1_201));
    expect(firehose.commandCalls(PutRecordBatchCommand).map((c) => c.args[0].input.Records?.length)).toEqual([500, 500, 201]);
  });
});

describe('SqsQueue', () => {
  const msg = (i: number): QueueMessage => ({ kind: 'export', exportId: `e${i}` });

  it('FR-BILL-002: sends in batches of 10 and retries only the entries SQS failed', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Successful: [], Failed: [{ Id: '3', Code: 'InternalError', SenderFault: false }] })
      .resolves({ Successful: [], Failed: [] });
    await new SqsQueue({ client: sqs as unknown as SQSClient, queueUrl: 'https://sqs/q' }).send(Array.from({ length: 12 }, (_, i) => msg(i)));
    const calls = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries?.map((e) => (JSON.parse(e.MessageBody!) as { exportId: string }).exportId));
    expect(calls).toEqual([['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8', 'e9'], ['e3'], ['e10', 'e11']]);
  });

  it('FR-BILL-002: a sender fault is not retried and rejects the send (the API answers 503, the caller retries)', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [{ Id: '0', Code: 'InvalidParameterValue', SenderFault: true }] });
    await expect(new SqsQueue({ client: sqs as unknown as SQSClient, queueUrl: 'https://sqs/q' }).send([msg(0)])).rejects.toMatchObject({ code: 'ERR-SYS-503' });
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
  });
});
