import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { UnavailableError } from '../../domain/errors';
import type { EventQueue, QueueMessage } from '../../domain/ingest-ports';

const MAX_ENTRIES = 10;
/** SendMessageBatch's limit is 256 KiB for the whole call; stay under it with room for the envelope. */
const MAX_CALL_BYTES = 250 * 1024;
const MAX_ATTEMPTS = 4;

/**
 * SQS producer. Entries the service fails (throttling, transient errors) are retried with backoff; if any
 * is still failing, the send rejects and the API answers 503 — the caller retries, and the idempotency
 * keys make that safe (the entries that did get through are stored once).
 */
export class SqsQueue implements EventQueue {
  constructor(private readonly options: { readonly client: SQSClient; readonly queueUrl: string }) {}

  async send(messages: readonly QueueMessage[]): Promise<void> {
    const bodies = messages.map((m) => JSON.stringify(m));
    const calls: string[][] = [];
    let call: string[] = [];
    let bytes = 0;
    for (const b of bodies) {
      const n = Buffer.byteLength(b);
      if (call.length > 0 && (call.length >= MAX_ENTRIES || bytes + n > MAX_CALL_BYTES)) {
        calls.push(call);
        call = [];
        bytes = 0;
      }
      call.push(b);
      bytes += n;
    }
    if (call.length > 0) calls.push(call);
    for (const c of calls) await this.sendBatch(c);
  }

  private async sendBatch(bodies: readonly string[]): Promise<void> {
    let pending = bodies.map((body, i) => ({ Id: String(i), MessageBody: body }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= MAX_ATTEMPTS) throw new UnavailableError(`SQS refused ${pending.length} messages after ${MAX_ATTEMPTS} attempts`);
      if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      const out = await this.options.client.send(new SendMessageBatchCommand({ QueueUrl: this.options.queueUrl, Entries: pending }));
      const failedIds = new Set((out.Failed ?? []).map((f) => f.Id));
      const senderFault = (out.Failed ?? []).find((f) => f.SenderFault);
      // A sender fault (too large, malformed) will not improve with a retry.
      if (senderFault) throw new UnavailableError(`SQS rejected a message: ${senderFault.Code ?? 'unknown'}`);
      pending = pending.filter((e) => failedIds.has(e.Id));
    }
  }
}
