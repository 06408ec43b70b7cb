/**
 * Local mode's SQS (issue #6): a durable file spool per queue under `<dataDir>/queues/<name>/`, polled in
 * process by the same consumer module Lambda runs, with SQS's semantics where they matter for
 * correctness: at-least-once delivery, batches, partial batch responses (`batchItemFailures`), a receive
 * count, redelivery after a failure, and a dead-letter directory after `maxReceiveCount` receives. A
 * message survives a crash of the process: it is deleted only once the consumer has acknowledged it, and
 * the next process to register the consumer delivers it again.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { EventQueue, QueueMessage } from '../../domain/ingest-ports';

export type LocalConsumer = (event: SQSEvent) => Promise<SQSBatchResponse | void>;

interface SpooledMessage {
  readonly messageId: string;
  readonly body: string;
  readonly sentAt: number;
  receiveCount: number;
  /** Not before this time (ms): the local stand-in for the visibility timeout after a failure. */
  visibleAt: number;
}

export interface LocalConsumerOptions {
  readonly batchSize: number;
  readonly maxReceiveCount: number;
  /** Delay before a failed message is delivered again (× its receive count). */
  readonly retryDelayMs?: number;
  /** Called with what went wrong when the consumer itself throws (local mode logs it). */
  readonly onError?: (err: unknown) => void;
}

class LocalQueue implements EventQueue {
  private consumer: LocalConsumer | undefined;
  private options: LocalConsumerOptions = { batchSize: 10, maxReceiveCount: 5 };
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private waiters: (() => void)[] = [];
  private sequence = 0;
  readonly dir: string;
  readonly dlqDir: string;

  constructor(
    dataDir: string,
    readonly name: string,
  ) {
    this.dir = join(dataDir, 'queues', name);
    this.dlqDir = join(dataDir, 'queues', `${name}-dlq`);
    mkdirSync(this.dir, { recursive: true });
    mkdirSync(this.dlqDir, { recursive: true });
  }

  async send(messages: readonly QueueMessage[]): Promise<void> {
    const now = Date.now();
    for (const m of messages) {
      // File names sort in send order (time, then a per-process counter): FIFO enough for local mode.
      const messageId = randomUUID();
      const file = `${String(now).padStart(15, '0')}-${String(this.sequence++).padStart(9, '0')}-${messageId}.json`;
      const msg: SpooledMessage = { messageId, body: JSON.stringify(m), sentAt: now, receiveCount: 0, visibleAt: 0 };
      this.write(this.dir, file, msg);
    }
    this.schedule(0);
  }

  setConsumer(consumer: LocalConsumer | undefined, options?: LocalConsumerOptions): void {
    this.consumer = consumer;
    if (options) this.options = options;
    if (consumer) this.schedule(0);
    else if (this.timer) clearTimeout(this.timer);
  }

  get hasConsumer(): boolean {
    return this.consumer !== undefined;
  }

  /** Stops delivery, keeping the messages, until the returned function restores the consumer it had. */
  pause(): () => void {
    const consumer = this.consumer;
    this.setConsumer(undefined);
    return () => this.setConsumer(consumer);
  }

  /** Messages waiting (visible or not yet), excluding the dead-letter directory. */
  pending(): number {
    return this.files().length;
  }

  deadLetters(): { messageId: string; body: string; receiveCount: number }[] {
    return readdirSync(this.dlqDir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => JSON.parse(readFileSync(join(this.dlqDir, f), 'utf8')) as SpooledMessage);
  }

  /** Resolves when the spool is empty (every message acknowledged or dead-lettered). */
  idle(): Promise<void> {
    if (!this.consumer || (this.pending() === 0 && !this.running)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private files(): string[] {
    try {
      return readdirSync(this.dir)
        .filter((f) => f.endsWith('.json'))
        .sort();
    } catch {
      return [];
    }
  }

  private write(dir: string, file: string, msg: SpooledMessage): void {
    const tmp = join(dir, `.${file}.tmp`);
    writeFileSync(tmp, JSON.stringify(msg));
    renameSync(tmp, join(dir, file));
  }

  private schedule(delayMs: number): void {
    if (!this.consumer || this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pump(), delayMs);
    this.timer.unref();
  }

  private async pump(): Promise<void> {
    if (this.running || !this.consumer) return;
    this.running = true;
    let nextVisible = Infinity;
    try {
      for (;;) {
        const now = Date.now();
        const batch: { file: string; msg: SpooledMessage }[] = [];
        nextVisible = Infinity;
        for (const file of this.files()) {
          let msg: SpooledMessage;
          try {
            msg = JSON.parse(readFileSync(join(this.dir, file), 'utf8')) as SpooledMessage;
          } catch {
            continue; // removed meanwhile
          }
          if (msg.visibleAt > now) {
            nextVisible = Math.min(nextVisible, msg.visibleAt);
            continue;
          }
          batch.push({ file, msg });
          if (batch.length >= this.options.batchSize) break;
        }
        if (batch.length === 0) break;
        await this.deliver(batch);
      }
    } finally {
      this.running = false;
    }
    if (nextVisible !== Infinity) this.schedule(Math.max(0, nextVisible - Date.now()));
    else if (this.pending() === 0) this.wake();
  }

  private async deliver(batch: { file: string; msg: SpooledMessage }[]): Promise<void> {
    for (const b of batch) {
      b.msg.receiveCount += 1;
      this.write(this.dir, b.file, b.msg);
    }
    const records: SQSRecord[] = batch.map(({ msg }) => ({
      messageId: msg.messageId,
      receiptHandle: msg.messageId,
      body: msg.body,
      attributes: {
        ApproximateReceiveCount: String(msg.receiveCount),
        SentTimestamp: String(msg.sentAt),
        SenderId: 'local',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:local:000000000000:${this.name}`,
      awsRegion: 'local',
    }));
    let failed: Set<string>;
    try {
      const res = await this.consumer!({ Records: records });
      failed = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (err) {
      // As with Lambda: a thrown error fails the whole batch.
      this.options.onError?.(err);
      failed = new Set(batch.map((b) => b.msg.messageId));
    }
    for (const { file, msg } of batch) {
      if (!failed.has(msg.messageId)) {
        rmSync(join(this.dir, file), { force: true });
      } else if (msg.receiveCount >= this.options.maxReceiveCount) {
        this.write(this.dlqDir, file, msg);
        rmSync(join(this.dir, file), { force: true });
      } else {
        msg.visibleAt = Date.now() + (this.options.retryDelayMs ?? 200) * msg.receiveCount;
        this.write(this.dir, file, msg);
      }
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }
}

// One registry per process, on globalThis: module copies (a test runner may load this file twice) share it.
const REGISTRY = Symbol.for('control-plane.local-queues');
type Registry = Map<string, LocalQueue>;
function registry(): Registry {
  const g = globalThis as { [REGISTRY]?: Registry };
  g[REGISTRY] ??= new Map();
  return g[REGISTRY];
}

function queueFor(dataDir: string, name: string): LocalQueue {
  const key = `${dataDir}\u0000${name}`;
  let q = registry().get(key);
  if (!q) {
    q = new LocalQueue(dataDir, name);
    registry().set(key, q);
  }
  return q;
}

export function localQueue(dataDir: string, name: string): EventQueue {
  return queueFor(dataDir, name);
}

/** Local mode's event source mapping: deliver the queue's messages (and any left from a crash) to `consumer`. */
export function registerLocalConsumer(dataDir: string, name: string, consumer: LocalConsumer | undefined, options: LocalConsumerOptions): void {
  queueFor(dataDir, name).setConsumer(consumer, options);
}

/**
 * Holds a queue's messages back from its consumer until the returned function is called. Benchmarks use
 * it to keep a consumer, which is a function of its own in AWS, out of another function's measurement.
 */
export function pauseLocalConsumer(dataDir: string, name: string): () => void {
  return queueFor(dataDir, name).pause();
}

/** Resolves when every local queue of the data dir has delivered everything it holds. */
export async function localQueuesIdle(dataDir: string): Promise<void> {
  for (;;) {
    const queues = [...registry().entries()].filter(([k, q]) => k.startsWith(`${dataDir}\u0000`) && q.hasConsumer).map(([, q]) => q);
    await Promise.all(queues.map((q) => q.idle()));
    // A consumer may have sent to another queue meanwhile (the export job audits itself).
    if (queues.every((q) => q.pending() === 0)) return;
  }
}

export function localDeadLetters(dataDir: string, name: string): { messageId: string; body: string; receiveCount: number }[] {
  return queueFor(dataDir, name).deadLetters();
}
