/**
 * Local mode's launcher, shared by `npm start` (bin/local.ts) and the integration tests: DynamoDB Local,
 * the table, the development operator IdP, and the local API Gateway serving the real handlers.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { ENV } from '../config/constants';
import { CORS_PREFLIGHTS, JOBS, QUEUES, ROUTES } from '../config/routes';
import { pathToFileURL } from 'node:url';
import { createDocumentClient } from '../adapters/dynamo/client';
import { ensureTable } from '../adapters/dynamo/table-admin';
import { backfillUserFilterEntries } from '../adapters/dynamo/user-index-backfill';
import { createLocalApi } from '../adapters/local/api-gateway';
import type { DevIdp } from '../adapters/local/dev-idp';
import { startDevIdpThread } from '../adapters/local/dev-idp-thread';
import { startDynamoDbLocal, type DynamoDbLocal } from '../adapters/local/dynamodb-local';
import { outboxPages } from '../adapters/local/outbox-page';
import { localObjectPages } from '../adapters/local/local-object-store';
import { registerLocalConsumer, type LocalConsumer } from '../adapters/local/local-queue';

export interface LocalControlPlaneOptions {
  /** Project root (route entries resolve against it). */
  readonly root: string;
  /** Persistent state lives here (.data/ by default in npm start). */
  readonly dataDir: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly host?: string;
  readonly idpPort: number;
  /** Use an already running DynamoDB Local instead of starting one (tests share one per run). */
  readonly dynamoEndpoint?: string;
  readonly dynamoPort?: number;
  readonly tableName: string;
  readonly homeRegion: string;
  /** Use an external operator IdP instead of starting the dev IdP. */
  readonly operatorIssuer?: string;
  readonly operatorAudience?: string;
  readonly logLevel?: string;
  /** Run scheduled jobs on timers (npm start: yes; tests invoke jobs themselves). */
  readonly runJobs?: boolean;
  /** Devices-flow polling interval of the dev IdP (tests lower it). */
  readonly deviceFlowIntervalSeconds?: number;
}

export interface LocalControlPlane {
  readonly apiUrl: string;
  /** The local mail outbox page (local mode sends no mail). */
  readonly outboxUrl: string;
  readonly issuer: string;
  readonly audience: string;
  readonly dynamoEndpoint: string;
  readonly tableName: string;
  readonly idp: DevIdp | undefined;
  readonly tableCreated: boolean;
  stop(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

export async function startLocalControlPlane(o: LocalControlPlaneOptions): Promise<LocalControlPlane> {
  mkdirSync(o.dataDir, { recursive: true });
  const host = o.host ?? '127.0.0.1';
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    let ddb: DynamoDbLocal | undefined;
    if (o.dynamoEndpoint === undefined) {
      ddb = await startDynamoDbLocal({ dataDir: join(o.dataDir, 'dynamodb'), ...(o.dynamoPort !== undefined ? { port: o.dynamoPort } : {}) });
      stops.push(() => ddb!.stop());
    }
    const dynamoEndpoint = o.dynamoEndpoint ?? ddb!.endpoint;
    const admin = new DynamoDBClient({ endpoint: dynamoEndpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const tableCreated = (await ensureTable(admin, o.tableName)) === 'created';
    admin.destroy();
    if (!tableCreated) {
      // A data directory from before the user status/role indexes: complete them before serving.
      const doc = createDocumentClient({ endpoint: dynamoEndpoint });
      await backfillUserFilterEntries(doc, o.tableName).finally(() => doc.destroy());
    }

    const outbox = outboxPages(o.dataDir);
    const objects = localObjectPages(o.dataDir);
    const server = createLocalApi({ routes: ROUTES, preflights: CORS_PREFLIGHTS, root: o.root, extra: async (req, res) => (await outbox(req, res)) || objects(req, res) });
    const port = await listen(server, o.port, host);
    stops.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const apiUrl = `http://localhost:${port}`;
    const audience = o.operatorAudience ?? apiUrl;

    let idp: DevIdp | undefined;
    let issuer = o.operatorIssuer;
    if (issuer === undefined) {
      idp = await startDevIdpThread({
        port: o.idpPort,
        dataDir: o.dataDir,
        audience,
        ...(o.deviceFlowIntervalSeconds !== undefined ? { deviceFlowIntervalSeconds: o.deviceFlowIntervalSeconds } : {}),
      });
      stops.push(() => idp!.close());
      issuer = idp.issuer;
    }

    // The handlers' composition root reads these on first use, exactly as in Lambda.
    Object.assign(process.env, {
      [ENV.TABLE_NAME]: o.tableName,
      [ENV.DYNAMODB_ENDPOINT]: dynamoEndpoint,
      [ENV.HOME_REGION]: o.homeRegion,
      [ENV.STAGE]: 'local',
      [ENV.OPERATOR_ISSUER]: issuer,
      [ENV.OPERATOR_AUDIENCE]: audience,
      [ENV.LOG_LEVEL]: o.logLevel ?? process.env[ENV.LOG_LEVEL] ?? 'info',
      // The local API is this deployment's OpenID issuer; signing keys and mail live under the data dir.
      [ENV.ISSUER]: apiUrl,
      [ENV.DATA_DIR]: o.dataDir,
    });
    // Local mode's SQS event source mappings (issue #6): the same consumer modules, fed from the file spool.
    for (const q of QUEUES) {
      let consumer: LocalConsumer | undefined;
      const consume: LocalConsumer = async (event) => {
        consumer ??= ((await import(pathToFileURL(join(o.root, q.consumerEntry)).href)) as { handler: LocalConsumer }).handler;
        return consumer(event);
      };
      registerLocalConsumer(o.dataDir, q.id, consume, {
        batchSize: q.batchSize,
        maxReceiveCount: q.maxReceiveCount,
        onError: (err) => process.stderr.write(`${JSON.stringify({ level: 'error', msg: `queue ${q.id} consumer failed`, error: err instanceof Error ? err.message : String(err) })}\n`),
      });
      stops.push(async () => registerLocalConsumer(o.dataDir, q.id, undefined, { batchSize: q.batchSize, maxReceiveCount: q.maxReceiveCount }));
    }
    if (o.runJobs) {
      for (const job of JOBS) {
        const timer = setInterval(() => {
          void import(pathToFileURL(join(o.root, job.entry)).href)
            .then((m: { handler: (e: object) => Promise<unknown> }) => m.handler({}))
            .catch((err: unknown) => process.stderr.write(`${JSON.stringify({ level: 'error', msg: `job ${job.id} failed`, error: err instanceof Error ? err.message : String(err) })}\n`));
        }, job.localIntervalSeconds * 1000);
        timer.unref();
        stops.push(async () => clearInterval(timer));
      }
    }
    return { apiUrl, outboxUrl: `${apiUrl}/_local/outbox`, issuer, audience, dynamoEndpoint, tableName: o.tableName, idp, tableCreated, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
