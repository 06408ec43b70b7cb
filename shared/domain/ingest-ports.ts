/**
 * Ports of the ingestion pipeline (issue #6: FR-BILL-001/002/003, FR-LOG-001/002/003). The domain and the
 * handlers see only these; shared/adapters/aws implements them with SQS, Firehose, S3 and KMS, and
 * shared/adapters/local with files under the data directory.
 */
import type { Readable } from 'node:stream';
import type { AuditRecord } from './audit';

/** One message body on a queue. Producers put at most INGEST_LIMITS.maxMessageBytes of JSON in one. */
export type QueueMessage =
  | { readonly kind: 'audit'; readonly records: readonly AuditRecord[] }
  | { readonly kind: 'billing'; readonly events: readonly BillingEvent[] }
  | { readonly kind: 'export'; readonly exportId: string };

export interface EventQueue {
  /** Resolves once every message is durably enqueued; rejects (nothing partial is hidden) otherwise. */
  send(messages: readonly QueueMessage[]): Promise<void>;
}

/** DAT-BILL-EVENT as stored. `id` is the caller's idempotency key, unique per application. */
export interface BillingEvent {
  readonly id: string;
  readonly appId: string;
  readonly tenantId: string;
  /** When the billable thing happened (the caller's clock), ISO 8601 UTC. */
  readonly timestamp: string;
  readonly type: string;
  readonly quantity: number;
  readonly metadata: Readonly<Record<string, string>>;
  /** When the API accepted it (our clock). */
  readonly receivedAt: string;
  /** API key that reported it (its public id, never the secret). */
  readonly keyId: string;
}

/**
 * The long-term archive (Firehose → S3 in AWS, partitioned by tenant and date, SSE-KMS; local: NDJSON
 * files). At-least-once: a redelivered queue message may archive a record twice; readers dedupe by id.
 */
export interface ArchiveStream {
  /** Resolves when every record was accepted; retries partial failures (FailedPutCount) itself. */
  put(records: readonly ArchivedRecord[]): Promise<void>;
}

/** What goes to the archive: the record plus the partition it belongs in. */
export interface ArchivedRecord {
  /** Tenant id, or ARCHIVE_LAYOUT.platformTenant for platform-level audit records. */
  readonly partitionTenant: string;
  /** yyyy-mm-dd of the record's timestamp (UTC). */
  readonly partitionDate: string;
  readonly record: AuditRecord | BillingEvent;
}

/** An object store bucket (S3 in AWS; a directory under the data dir locally). Keys use `/`. */
export interface ObjectStore {
  put(key: string, body: string | Uint8Array, contentType: string): Promise<void>;
  /** Streams without buffering the whole object (multipart upload in S3). */
  putStream(key: string, body: Readable, contentType: string): Promise<{ readonly bytes: number }>;
  get(key: string): Promise<Uint8Array | undefined>;
  /** Every key under the prefix, in lexical order. */
  list(prefix: string): AsyncIterable<string>;
  /** Deletes every object under the prefix; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /** A time-limited download link (S3 presigned GET; locally an HMAC-signed link on the local server). */
  presignGet(key: string, expiresInSeconds: number, downloadName?: string): Promise<string>;
}

/**
 * Tamper evidence (issue #6): the audit consumer records each delivered batch — which records it stored,
 * in which order, with which content hash — and the digest job chains the batches into signed digests.
 */
export interface AuditBatchEntry {
  /** Table key of the stored record. */
  readonly pk: string;
  readonly sk: string;
  readonly id: string;
  /** auditRecordHash() of the record as stored. */
  readonly hash: string;
}

export interface AuditBatch {
  readonly batchId: string;
  readonly deliveredAt: string;
  readonly entries: readonly AuditBatchEntry[];
}

export interface AuditBatchLedger {
  /** Idempotent on batchId. */
  recordBatch(batch: AuditBatch): Promise<void>;
}

/** Signs digests (KMS ECC_NIST_P256 ECDSA_SHA_256 in AWS, a local P-256 key file locally). */
export interface DigestSigner {
  /** Key id that verifiers use to pick the public key. */
  readonly keyId: string;
  sign(message: Uint8Array): Promise<Uint8Array>;
  /** SPKI DER of the public key. */
  publicKey(): Promise<Uint8Array>;
}
