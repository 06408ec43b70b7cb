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
import type { AuditLog, Clock, HealthProbe, IdGenerator, OperatorDirectory, TenantStore } from './domain/ports';
import type { OperatorTokenVerifier } from './domain/principal';
import { createLogger, parseLogLevel, type Logger } from './http/logger';

export interface RuntimeConfig {
  readonly tableName: string;
  readonly homeRegion: string;
  readonly stage: string;
  readonly operatorIssuer: string;
  readonly operatorAudience: string;
  readonly operatorGroupsClaim: string;
  readonly operatorGroup: string;
}

export interface Container {
  readonly config: RuntimeConfig;
  readonly log: Logger;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly tenants: TenantStore;
  readonly operators: OperatorDirectory;
  readonly audit: AuditLog;
  readonly health: HealthProbe;
  readonly operatorTokens: OperatorTokenVerifier;
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
  return {
    config,
    log,
    clock: systemClock,
    ids: cryptoIds,
    tenants: new DynamoTenantStore(db, config.tableName),
    operators: new DynamoOperatorDirectory(db, config.tableName, cryptoIds),
    audit: new DynamoAuditLog(db, config.tableName),
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
