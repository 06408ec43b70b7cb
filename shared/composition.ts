/**
 * The composition root: the one place that reads configuration and wires adapters to ports. Lambda and
 * local mode run this same code; local mode differs only in the environment it sets (DYNAMODB_ENDPOINT,
 * an http://localhost operator issuer).
 */
import { SIGNING_KEY_PUBLISH_LEAD_SECONDS } from './domain/identity/key-rotation';
import { randomBytes, randomUUID } from 'node:crypto';
import { ENV } from './config/constants';
import { AwsJwtOperatorVerifier } from './adapters/auth/operator-token-verifier';
import { createDocumentClient } from './adapters/dynamo/client';
import { DynamoHealthProbe } from './adapters/dynamo/health';
import { DynamoOperatorDirectory } from './adapters/dynamo/operator-directory';
import { DynamoTenantStore } from './adapters/dynamo/tenant-store';
import { DynamoUserAdminStore } from './adapters/dynamo/user-admin-store';
import { DynamoDataSubjectStore } from './adapters/dynamo/data-subject-store';
import type { DataSubjectStore } from './domain/data-subject';
import { DynamoSettingsStore } from './adapters/dynamo/settings-store';
import { DynamoFlagStore } from './adapters/dynamo/flag-store';
import type { FlagStore } from './domain/flags';
import type { UserAdminStore } from './domain/user-admin';
import type { AuditLog, Clock, HealthProbe, IdGenerator, OperatorDirectory, TenantStore } from './domain/ports';
import type { OperatorTokenVerifier } from './domain/principal';
import { KMSClient } from '@aws-sdk/client-kms';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { KmsWrappedSigningKeyStore } from './adapters/aws/kms-signing-keys';
import { SesMailer } from './adapters/aws/ses-mailer';
import { Argon2idHasher } from './adapters/crypto/argon2-hasher';
import { DynamoIdentityStore } from './adapters/dynamo/identity-store';
import { FileSigningKeyStore } from './adapters/local/file-signing-keys';
import { OutboxMailer } from './adapters/local/outbox-mailer';
import { LoginService } from './domain/identity/login-service';
import { DEFAULT_LIFETIMES, type IdentityLifetimes } from './domain/identity/model';
import type { IdentityStore, Mailer, PasswordHasher, SigningKeyStore } from './domain/identity/ports';
import { TokenService } from './domain/identity/token-service';
import { PasswordResetService } from './domain/identity/password-reset';
import { DynamoRateLimiter } from './adapters/dynamo/rate-limiter';
import type { RateLimiter } from './domain/identity/ports';
import { createLogger, parseLogLevel, type Logger } from './http/logger';
import { ApiKeyService } from './domain/apikeys';
import { DynamoApiKeyStore } from './adapters/dynamo/apikey-store';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ARCHIVE_LAYOUT, INGEST_ENV } from './config/constants';
import { FirehoseArchive } from './adapters/aws/firehose-archive';
import { KmsDigestSigner } from './adapters/aws/kms-digest-signer';
import { S3ObjectStore } from './adapters/aws/s3-object-store';
import { SqsQueue } from './adapters/aws/sqs-queue';
import { DynamoAuditBatchLedger } from './adapters/dynamo/audit-ledger';
import { DynamoIngestStore } from './adapters/dynamo/ingest-store';
import type { RecordStore } from './domain/billing';
import { QueueAuditLog } from './adapters/queue-audit-log';
import { FileDigestSigner } from './adapters/local/file-digest-signer';
import { LocalArchive } from './adapters/local/local-archive';
import { LocalObjectStore } from './adapters/local/local-object-store';
import { localQueue } from './adapters/local/local-queue';
import type { ArchiveStream, DigestSigner, EventQueue, ObjectStore } from './domain/ingest-ports';
import type { AuditLedgerStore } from './domain/audit-digest';
import type { QueueId } from './config/routes';

export interface RuntimeConfig {
  readonly tableName: string;
  readonly homeRegion: string;
  readonly stage: string;
  readonly operatorIssuer: string;
  readonly operatorAudience: string;
  readonly operatorGroupsClaim: string;
  readonly operatorGroup: string;
  /** Members of this IdP group are developers (ACT-DEV): they manage applications. */
  readonly developerGroup: string;
  /** Members of this IdP group are Auditors (ACT-AUDIT): read-only platform principals (ADR-0007). */
  readonly auditorGroup: string;
  /** The OpenID issuer: this deployment's public base URL, no trailing slash. */
  readonly issuer: string;
  readonly lifetimes: IdentityLifetimes;
  readonly mailSender: string;
  /** FR-OPS-002 grace period before a deleted tenant is purged. */
  readonly deletionGraceDays: number;
}

/** Issue #6: the ingestion pipeline's adapters, built on first use (most routes only send audit records). */
export interface Ingest {
  readonly queues: Readonly<Record<QueueId, EventQueue>>;
  readonly archives: { readonly audit: ArchiveStream; readonly billing: ArchiveStream };
  /** Buckets: the CSV exports and the two archives (the purge deletes a tenant's archive partitions). */
  readonly objects: { readonly exports: ObjectStore; readonly auditArchive: ObjectStore; readonly billingArchive: ObjectStore };
  /** The consumer records batches; the digest job and the verification endpoints read them back. */
  readonly ledger: AuditLedgerStore;
  readonly digestSigner: DigestSigner;
}

/** The identity context's services, built on first use: tenant routes never pay for argon2 or KMS. */
export interface Identity {
  readonly store: IdentityStore;
  readonly keys: SigningKeyStore;
  readonly hasher: PasswordHasher;
  readonly mailer: Mailer;
  readonly tokens: TokenService;
  readonly login: LoginService;
  readonly resets: PasswordResetService;
  readonly limiter: RateLimiter;
}

export interface Container {
  readonly config: RuntimeConfig;
  readonly log: Logger;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly tenants: TenantStore;
  readonly users: UserAdminStore;
  /** CON-COMP-001: export, rectification and erasure of a tenant user's personal data. */
  readonly dataSubjects: DataSubjectStore;
  readonly settings: DynamoSettingsStore;
  /** DAT-FLAG (issue #5): operator overrides and the FlagReader that flag delivery uses. */
  readonly flags: FlagStore;
  readonly operators: OperatorDirectory;
  readonly audit: AuditLog;
  readonly health: HealthProbe;
  readonly operatorTokens: OperatorTokenVerifier;
  readonly identity: Identity;
  /** API access keys (FR-SYS-002): management and the ApiKeyVerifier, with its per-environment cache. */
  readonly apiKeys: ApiKeyService;
  readonly ingest: Ingest;
  /** Billing events and audit records as the consumers store them and the exports read them (issue #6). */
  readonly records: RecordStore;
  /** The table client, for adapters built outside the container (jobs, tests). */
  readonly db: ReturnType<typeof createDocumentClient>;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (v === undefined || v === '') throw new Error(`missing required environment variable ${name}`);
  return v;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  return {
    tableName: required(env, ENV.TABLE_NAME),
    homeRegion: env[ENV.HOME_REGION] ?? env['AWS_REGION'] ?? 'local',
    stage: env[ENV.STAGE] ?? 'dev',
    operatorIssuer: required(env, ENV.OPERATOR_ISSUER),
    operatorAudience: required(env, ENV.OPERATOR_AUDIENCE),
    operatorGroupsClaim: env[ENV.OPERATOR_GROUPS_CLAIM] ?? 'groups',
    operatorGroup: env[ENV.OPERATOR_GROUP] ?? 'cp-operators',
    developerGroup: env[ENV.DEVELOPER_GROUP] ?? 'cp-developers',
    auditorGroup: env[ENV.AUDITOR_GROUP] ?? 'cp-auditors',
    issuer: required(env, ENV.ISSUER).replace(/\/$/, ''),
    lifetimes: DEFAULT_LIFETIMES,
    mailSender: env[ENV.MAIL_SENDER] ?? 'no-reply@localhost',
    deletionGraceDays: Number(env[ENV.TENANT_DELETION_GRACE_DAYS] ?? 30),
  };
}

/** Key material outlives tokens: keep a replaced key published for the longest lifetime plus skew. */
function retainPreviousSeconds(l: IdentityLifetimes): number {
  return Math.max(l.accessTokenSeconds, l.idTokenSeconds) + 300;
}

function buildIdentity(env: NodeJS.ProcessEnv, config: RuntimeConfig, db: ReturnType<typeof createDocumentClient>, now: () => Date): Identity {
  const store = new DynamoIdentityStore(db, config.tableName);
  const kmsKeyId = env[ENV.SIGNING_KEY_KMS_KEY_ID];
  const dataDir = env[ENV.DATA_DIR];
  let keys: SigningKeyStore;
  let mailer: Mailer;
  if (kmsKeyId) {
    keys = new KmsWrappedSigningKeyStore({ db, tableName: config.tableName, kms: new KMSClient({}), keyId: kmsKeyId, retainPreviousSeconds: retainPreviousSeconds(config.lifetimes), publishLeadSeconds: SIGNING_KEY_PUBLISH_LEAD_SECONDS });
    mailer = new SesMailer({ client: new SESv2Client({}), from: config.mailSender });
  } else if (dataDir) {
    keys = new FileSigningKeyStore({ dataDir, retainPreviousSeconds: retainPreviousSeconds(config.lifetimes), publishLeadSeconds: SIGNING_KEY_PUBLISH_LEAD_SECONDS });
    mailer = new OutboxMailer(dataDir, { from: config.mailSender });
  } else {
    throw new Error(`set ${ENV.SIGNING_KEY_KMS_KEY_ID} (AWS) or ${ENV.DATA_DIR} (local mode)`);
  }
  const deps = { store, now, issuer: config.issuer, lifetimes: config.lifetimes };
  // Built on first use: only the functions that hash passwords load the native argon2 addon.
  let hasher: PasswordHasher | undefined;
  let login: LoginService | undefined;
  return {
    store,
    keys,
    mailer,
    tokens: new TokenService({ ...deps, keys }),
    get hasher(): PasswordHasher {
      hasher ??= new Argon2idHasher();
      return hasher;
    },
    get login(): LoginService {
      login ??= new LoginService({ ...deps, hasher: this.hasher });
      return login;
    },
    get resets(): PasswordResetService {
      const settings = new DynamoSettingsStore(db, config.tableName);
      return new PasswordResetService({ store, hasher: this.hasher, mailer, now, issuer: config.issuer, policyOf: async (tenantId) => (await settings.get(tenantId)).passwordPolicy });
    },
    limiter: new DynamoRateLimiter(db, config.tableName),
  };
}

function buildIngest(env: NodeJS.ProcessEnv, config: RuntimeConfig, db: ReturnType<typeof createDocumentClient>): Ingest {
  const ledger = new DynamoAuditBatchLedger(db, config.tableName);
  const dataDir = env[ENV.DATA_DIR];
  const auditQueueUrl = env[INGEST_ENV.AUDIT_QUEUE_URL];
  if (auditQueueUrl) {
    const sqs = new SQSClient({});
    const s3 = new S3Client({});
    const firehose = new FirehoseClient({});
    const queue = (name: string): EventQueue => {
      const url = env[name];
      // A function that has no business sending to a queue does not get its URL: fail on use, not on start.
      return url ? new SqsQueue({ client: sqs, queueUrl: url }) : { send: () => Promise.reject(new Error(`${name} is not configured for this function`)) };
    };
    const bucket = (name: string): ObjectStore => new S3ObjectStore({ client: s3, bucket: env[name] ?? '' });
    const stream = (name: string): ArchiveStream => new FirehoseArchive({ client: firehose, streamName: env[name] ?? '' });
    return {
      queues: { audit: queue(INGEST_ENV.AUDIT_QUEUE_URL), billing: queue(INGEST_ENV.BILLING_QUEUE_URL), export: queue(INGEST_ENV.EXPORT_QUEUE_URL) },
      archives: { audit: stream(INGEST_ENV.AUDIT_STREAM_NAME), billing: stream(INGEST_ENV.BILLING_STREAM_NAME) },
      objects: { exports: bucket(INGEST_ENV.EXPORT_BUCKET), auditArchive: bucket(INGEST_ENV.AUDIT_ARCHIVE_BUCKET), billingArchive: bucket(INGEST_ENV.BILLING_ARCHIVE_BUCKET) },
      ledger,
      digestSigner: new KmsDigestSigner({ kms: new KMSClient({}), keyId: env[INGEST_ENV.DIGEST_KMS_KEY_ID] ?? '' }),
    };
  }
  if (!dataDir) throw new Error(`set ${INGEST_ENV.AUDIT_QUEUE_URL} (AWS) or ${ENV.DATA_DIR} (local mode)`);
  const objects = (bucket: string): ObjectStore => new LocalObjectStore({ dataDir, bucket, baseUrl: config.issuer });
  const auditArchive = objects('audit-archive');
  const billingArchive = objects('billing-archive');
  return {
    queues: { audit: localQueue(dataDir, 'audit'), billing: localQueue(dataDir, 'billing'), export: localQueue(dataDir, 'export') },
    archives: { audit: new LocalArchive(auditArchive, ARCHIVE_LAYOUT.auditPrefix), billing: new LocalArchive(billingArchive, ARCHIVE_LAYOUT.billingPrefix) },
    objects: { exports: objects('exports'), auditArchive, billingArchive },
    ledger,
    digestSigner: new FileDigestSigner({ dataDir }),
  };
}

export const systemClock: Clock = { now: () => new Date() };
export const cryptoIds: IdGenerator = {
  uuid: () => randomUUID(),
  secretToken: () => randomBytes(32).toString('base64url'),
};

export function buildContainer(env: NodeJS.ProcessEnv = process.env): Container {
  const config = readConfig(env);
  const log = createLogger(parseLogLevel(env[ENV.LOG_LEVEL]), { stage: config.stage, region: config.homeRegion });
  const db = createDocumentClient({ endpoint: env[ENV.DYNAMODB_ENDPOINT], region: env['AWS_REGION'] });
  let identity: Identity | undefined;
  let ingest: Ingest | undefined;
  const getIngest = (): Ingest => (ingest ??= buildIngest(env, config, db));
  return {
    get ingest(): Ingest {
      return getIngest();
    },
    db,
    records: new DynamoIngestStore(db, config.tableName),
    get identity(): Identity {
      identity ??= buildIdentity(env, config, db, () => systemClock.now());
      return identity;
    },
    config,
    log,
    clock: systemClock,
    ids: cryptoIds,
    tenants: new DynamoTenantStore(db, config.tableName),
    users: new DynamoUserAdminStore(db, config.tableName),
    dataSubjects: new DynamoDataSubjectStore(db, config.tableName),
    settings: new DynamoSettingsStore(db, config.tableName),
    flags: new DynamoFlagStore(db, config.tableName),
    operators: new DynamoOperatorDirectory(db, config.tableName, cryptoIds),
    // FR-LOG-003: the control plane's own records take the same queue as the applications' (issue #6).
    audit: new QueueAuditLog(() => getIngest().queues.audit),
    apiKeys: new ApiKeyService(new DynamoApiKeyStore(db, config.tableName), { now: () => systemClock.now(), log }),
    health: new DynamoHealthProbe(db, config.tableName),
    operatorTokens: new AwsJwtOperatorVerifier({
      issuer: config.operatorIssuer,
      audience: config.operatorAudience,
      groupsClaim: config.operatorGroupsClaim,
    }),
  };
}

let current: Container | undefined;

/** One container per execution environment (Lambda) or process (local server): clients are reused. */
export function container(): Container {
  current ??= buildContainer();
  return current;
}
