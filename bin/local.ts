/**
 * `npm start`: the whole control plane on localhost. Same handlers as Lambda; DynamoDB Local persisted
 * under .data/; a development operator IdP. Ctrl-C stops every child process.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JAVA_MISSING_MESSAGE, javaAvailable } from '../shared/adapters/local/dynamodb-local';
import { DEV_ACCOUNTS } from '../shared/adapters/local/dev-idp';
import { startLocalControlPlane } from '../shared/local/control-plane';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const int = (name: string, fallback: number): number => {
  const v = env[name];
  const n = v === undefined ? fallback : Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    process.stderr.write(`${name} must be a port number, got ${v}\n`);
    process.exit(2);
  }
  return n;
};

if (!javaAvailable()) {
  process.stderr.write(`${JAVA_MISSING_MESSAGE}\n`);
  process.exit(1);
}

const startedAt = Date.now();
const cp = await startLocalControlPlane({
  root,
  dataDir: resolve(root, env['DATA_DIR'] ?? '.data'),
  port: int('PORT', 3000),
  host: env['HOST'] ?? '127.0.0.1',
  idpPort: int('OPERATOR_IDP_PORT', 3001),
  dynamoPort: int('DYNAMODB_LOCAL_PORT', 8042),
  tableName: env['TABLE_NAME'] ?? 'control-plane-local',
  homeRegion: env['HOME_REGION'] ?? 'local',
  ...(env['OPERATOR_ISSUER'] ? { operatorIssuer: env['OPERATOR_ISSUER'] } : {}),
  ...(env['OPERATOR_AUDIENCE'] ? { operatorAudience: env['OPERATOR_AUDIENCE'] } : {}),
  logLevel: env['LOG_LEVEL'] ?? 'info',
  runJobs: true,
}).catch((err: unknown) => {
  process.stderr.write(`local control plane failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

const operator = DEV_ACCOUNTS[0];
process.stdout.write(
  [
    '',
    `Control plane (local) ready in ${Date.now() - startedAt} ms`,
    `  API            ${cp.apiUrl}          (health: ${cp.apiUrl}/health, ready: ${cp.apiUrl}/ready)`,
    `  Operator IdP   ${cp.issuer}${cp.idp ? `   dev account: ${operator?.email} / ${operator?.password}` : ' (external)'}`,
    `  DynamoDB Local ${cp.dynamoEndpoint}   table ${cp.tableName}${cp.tableCreated ? ' (created)' : ''}, data in ${env['DATA_DIR'] ?? '.data'}/`,
    '',
    `  Try: npx cpctl login --api ${cp.apiUrl} --dev && npx cpctl tenants list`,
    '  Ctrl-C to stop.',
    '',
  ].join('\n'),
);

let stopping = false;
const shutdown = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\n${signal}: stopping…\n`);
  void cp.stop().then(() => process.exit(0));
  setTimeout(() => process.exit(1), 8_000).unref();
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
