/**
 * The composition root: the one place that reads configuration and wires adapters to ports. Lambda and
 * local mode run this same code; local mode differs only in the environment it sets (DYNAMODB_ENDPOINT,
 * an http://localhost operator issuer).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ENV } from './config/constants';
import { AwsJwtOperatorVerifier } from './adapters/auth/operator-token-verifier';
import { DynamoAuditLog } from './adapters/dynamo/audit-log';
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
    keys = new KmsWrappedSigningKeyStore({ db, tableName: config.tableName, kms: new KMSClient({}), keyId: kmsKeyId, retainPreviousSeconds: retainPreviousSeconds(config.lifetimes) });
    mailer = new SesMailer({ client: new SESv2Client({}), from: config.mailSender });
  } else if (dataDir) {
    keys = new FileSigningKeyStore({ dataDir, retainPreviousSeconds: retainPreviousSeconds(config.lifetimes) });
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
  return {
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
    audit: new DynamoAuditLog(db, config.tableName),
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
