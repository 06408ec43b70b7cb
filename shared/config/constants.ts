/**
 * Names shared by the CDK app (lib/) and the runtime (functions/, shared/, bin/local.ts).
 * This module is pure data: lib/ may import it without pulling any runtime code into the synth.
 */

/** Environment variables the handlers read. The CDK stack sets them; the local server sets them too. */
export const ENV = {
  TABLE_NAME: 'TABLE_NAME',
  /** Only in local mode: where DynamoDB Local listens. Absent in AWS. */
  DYNAMODB_ENDPOINT: 'DYNAMODB_ENDPOINT',
  /** Issuer URL of the external operator IdP (FR-SYS-004). */
  OPERATOR_ISSUER: 'OPERATOR_ISSUER',
  /** Audience the operator access token must carry. */
  OPERATOR_AUDIENCE: 'OPERATOR_AUDIENCE',
  /** Claim that lists the caller's groups, and the group that makes a caller an operator. */
  OPERATOR_GROUPS_CLAIM: 'OPERATOR_GROUPS_CLAIM',
  OPERATOR_GROUP: 'OPERATOR_GROUP',
  DEVELOPER_GROUP: 'DEVELOPER_GROUP',
  /** Members of this IdP group are Auditors (ACT-AUDIT, ADR-0007). */
  AUDITOR_GROUP: 'AUDITOR_GROUP',
  /** The region whose data this deployment holds (CON-DATA-001). */
  HOME_REGION: 'HOME_REGION',
  STAGE: 'STAGE',
  LOG_LEVEL: 'LOG_LEVEL',
  MAIL_SENDER: 'MAIL_SENDER',
  /** Public base URL of this regional deployment: the OpenID issuer (issue #3). */
  ISSUER: 'ISSUER',
  /** AWS: symmetric KMS key that wraps the token-signing keys (ADR-0005). Absent in local mode. */
  SIGNING_KEY_KMS_KEY_ID: 'SIGNING_KEY_KMS_KEY_ID',
  /** Local mode only: where file-backed adapters keep state (signing keys, mail outbox). */
  DATA_DIR: 'DATA_DIR',
  /** FR-OPS-002: days between a tenant's deletion request and its purge (default 30). */
  TENANT_DELETION_GRACE_DAYS: 'TENANT_DELETION_GRACE_DAYS',
} as const;

/** CON-DATA-001: data stays in Japan or the EU. One regional stack per home region. */
export const HOME_REGIONS = {
  'ap-northeast-1': { label: 'Tokyo', stackName: 'ControlPlane-Tokyo' },
  'eu-central-1': { label: 'Frankfurt', stackName: 'ControlPlane-Frankfurt' },
} as const;
export type HomeRegion = keyof typeof HOME_REGIONS;
export const HOME_REGION_IDS = Object.keys(HOME_REGIONS) as HomeRegion[];

/**
 * The single table's physical shape. Both the CDK table and the local `CreateTable` are built from this,
 * so the two cannot drift.
 */
export const TABLE_SCHEMA = {
  partitionKey: 'PK',
  sortKey: 'SK',
  ttlAttribute: 'ttl',
  globalIndexes: [{ indexName: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' }],
} as const;

/** Body size limit for JSON requests (bytes). API Gateway allows 10 MB; we need far less. */
export const MAX_JSON_BODY_BYTES = 64 * 1024;

/**
 * Partitions that functions with `read` table access may still write to: denial audit records and
 * operator JIT provisioning (FR-SYS-004). The IAM policy pins PutItem to these leading keys, and the key
 * builders (shared/adapters/dynamo/keys.ts) use the same constants.
 */
export const PLATFORM_PARTITIONS = {
  audit: 'PLATFORM#AUDIT',
  operator: 'PLATFORM#OPERATOR',
} as const;

/**
 * ADR-0005: the token-signing key records (public JWK, KMS-wrapped private key, state) and the pointer to
 * the current key. Deliberately NOT in PLATFORM_PARTITIONS: that list is where read-only functions may
 * write, and whoever can write here can publish a key in the JWKS. Grant write access to this leading key
 * only to the token-issuing and rotation functions.
 */
export const SIGNING_KEY_PARTITION = 'PLATFORM#SIGNINGKEY';

/**
 * API key items (`APIKEY#<keyId>`): functions with `read` table access may still UpdateItem these, and
 * only these, to record a key's last use (004 FR-004) without being able to write anything else.
 */
export const API_KEY_PARTITION_PREFIX = 'APIKEY#';

/**
 * FR-OPS-003, CON-DATA-002/003: how long audit logs and billing events are kept. The one source for the
 * table TTLs, the retention job's cut-off and the S3 lifecycle rules, so the three cannot disagree.
 * Days, not years: 7 y = 7 × 365 + 2 leap days, 5 y = 5 × 365 + 2.
 */
export const RETENTION = {
  auditDays: 2557,
  billingDays: 1827,
  /** The table TTL is a backstop behind the retention job (which audits what it deletes): this much later. */
  ttlGraceDays: 30,
  /** CSV exports are download artefacts, not records: their objects expire after this many days. */
  exportDays: 7,
} as const;

/** Environment variables of the ingestion pipeline (issue #6). Absent in local mode (DATA_DIR is set instead). */
export const INGEST_ENV = {
  /** SQS queue URLs the producers send to. */
  AUDIT_QUEUE_URL: 'AUDIT_QUEUE_URL',
  BILLING_QUEUE_URL: 'BILLING_QUEUE_URL',
  EXPORT_QUEUE_URL: 'EXPORT_QUEUE_URL',
  /** Firehose delivery streams the consumers forward stored records to (→ S3, partitioned by tenant and date). */
  AUDIT_STREAM_NAME: 'AUDIT_STREAM_NAME',
  BILLING_STREAM_NAME: 'BILLING_STREAM_NAME',
  /** Buckets: the Firehose archives (the purge deletes a tenant's partitions) and the CSV exports. */
  AUDIT_ARCHIVE_BUCKET: 'AUDIT_ARCHIVE_BUCKET',
  BILLING_ARCHIVE_BUCKET: 'BILLING_ARCHIVE_BUCKET',
  EXPORT_BUCKET: 'EXPORT_BUCKET',
  /** Asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY) that signs the audit digests. */
  DIGEST_KMS_KEY_ID: 'DIGEST_KMS_KEY_ID',
} as const;

/** Object key prefixes in the archive buckets: `<kind>/tenant=<id|platform>/date=<yyyy-mm-dd>/…`. */
export const ARCHIVE_LAYOUT = {
  auditPrefix: 'audit/',
  billingPrefix: 'billing/',
  /** The partition name used for platform-level audit records (no tenant). */
  platformTenant: 'platform',
} as const;

/** Ingestion limits (API-BILL, API-LOG). */
export const INGEST_LIMITS = {
  maxBatch: 500,
  /** Request bodies of the ingestion routes may be this large (500 events with metadata). */
  maxBodyBytes: 1024 * 1024,
  /** Idempotency keys of billing events are unique per application for at least this long (Stripe: 35 days). */
  idempotencyDays: 35,
  /** Events older than this or further in the future than maxFutureSeconds are refused. */
  maxAgeDays: 35,
  maxFutureSeconds: 300,
  /** SQS messages are ≤ 256 KiB; the producer packs at most this many bytes of events into one. */
  maxMessageBytes: 200 * 1024,
} as const;
