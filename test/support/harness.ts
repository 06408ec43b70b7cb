/**
 * Integration-test harness: the real local control plane (same launcher as `npm start`) on ephemeral
 * ports, against the run's DynamoDB Local, with a table of its own.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, importJWK, type JWK } from 'jose';
import { inject } from 'vitest';
import { DEV_ACCOUNTS, DEV_CLIENT_ID } from '../../shared/adapters/local/dev-idp';
import { loginWithPassword } from '../../shared/cli/operator-login';
import { localQueuesIdle } from '../../shared/adapters/local/local-queue';
import { startLocalControlPlane, type LocalControlPlane } from '../../shared/local/control-plane';

import { ROOT } from './paths';

export { ROOT };

export interface Harness {
  readonly cp: LocalControlPlane;
  readonly dataDir: string;
  readonly db: DynamoDBDocumentClient;
  readonly url: (path: string) => string;
  operatorToken(): Promise<string>;
  developerToken(): Promise<string>;
  /** A token signed with the dev IdP's real key, with claims of the test's choosing. */
  mintToken(claims: Record<string, unknown>, options?: { expiresIn?: string | number; issuer?: string; audience?: string }): Promise<string>;
  /** Waits until the local queues have delivered everything (audit records are written asynchronously). */
  settle(): Promise<void>;
  /** Items of one partition, after settle(). */
  items(pk: string): Promise<Record<string, unknown>[]>;
  allItems(): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

export async function startHarness(options: { dataDir?: string; dynamoEndpoint?: string } = {}): Promise<Harness> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'cp-it-'));
  const cp = await startLocalControlPlane({
    root: ROOT,
    dataDir,
    port: 0,
    idpPort: 0,
    dynamoEndpoint: options.dynamoEndpoint ?? inject('dynamoEndpoint'),
    tableName: `it-${randomUUID()}`,
    homeRegion: 'eu-central-1',
    logLevel: 'silent',
  });
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: cp.dynamoEndpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  );
  const tokens = new Map<string, string>();
  const login = async (account: (typeof DEV_ACCOUNTS)[number] | undefined): Promise<string> => {
    if (!account) throw new Error('dev account missing');
    const cached = tokens.get(account.email);
    if (cached) return cached;
    const t = await loginWithPassword({ issuer: cp.issuer, clientId: DEV_CLIENT_ID, audience: cp.audience, username: account.email, password: account.password });
    tokens.set(account.email, t.accessToken);
    return t.accessToken;
  };
  return {
    cp,
    dataDir,
    db,
    url: (path) => `${cp.apiUrl}${path}`,
    operatorToken: () => login(DEV_ACCOUNTS.find((a) => a.email === 'operator@example.com')),
    developerToken: () => login(DEV_ACCOUNTS.find((a) => a.email === 'developer@example.com')),
    async mintToken(claims, o = {}) {
      const jwk = cp.idp?.privateJwks.keys[0] as JWK | undefined;
      if (!jwk?.kid) throw new Error('dev IdP signing key unavailable');
      const key = await importJWK(jwk, 'ES256');
      let jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: jwk.kid, typ: 'at+jwt' })
        .setIssuer(o.issuer ?? cp.issuer)
        .setAudience(o.audience ?? cp.audience)
        .setIssuedAt(Math.floor(Date.now() / 1000) - 7200);
      jwt = jwt.setExpirationTime(o.expiresIn ?? '1h');
      return jwt.sign(key);
    },
    settle: () => localQueuesIdle(dataDir),
    async items(pk) {
      await localQueuesIdle(dataDir);
      const out = await db.send(new QueryCommand({ TableName: cp.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true }));
      return out.Items ?? [];
    },
    async allItems() {
      await localQueuesIdle(dataDir);
      const out = await db.send(new ScanCommand({ TableName: cp.tableName, ConsistentRead: true }));
      return out.Items ?? [];
    },
    async stop() {
      db.destroy();
      await cp.stop();
    },
  };
}

export async function api(
  h: Harness,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(h.url(path), { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
