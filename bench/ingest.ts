/**
 * Ingestion (issue #6): accepted billing events/s through the API into the queue (batches of 100 and single
 * events), then the consumer's events/s from the queue into the table (+ archive), measured separately:
 * during the API rows the billing consumer is detached, so the spool fills and the consumer's CPU does not
 * count against the API; then it is attached and timed until the spool is empty. Load comes from a
 * separate process (bench/load.ts HttpLoadGenerator). Local figures: the queue is the local file spool and
 * the store DynamoDB Local on the same two cores, so they bound, not predict, AWS throughput.
 */
import { randomUUID } from 'node:crypto';
import { QUEUES } from '../shared/config/routes';
import { localQueuesIdle, registerLocalConsumer, type LocalConsumer } from '../shared/adapters/local/local-queue';
import { DEV_ACCOUNTS, DEV_CLIENT_ID } from '../shared/adapters/local/dev-idp';
import { loginWithPassword } from '../shared/cli/operator-login';
import type { LocalControlPlane } from '../shared/local/control-plane';
import { CpuProbe, findDynamoDbLocalPid, HttpLoadGenerator, judge, VCPUS, type HttpPlan, type Result } from './load';
import { handler as billingConsumer } from '../functions/ingest/billing-consumer';

const BATCH = 100;
const SECONDS = 10;

async function call(url: string, method: string, token: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${text.slice(0, 200)}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

export async function benchIngest(options: { cp: LocalControlPlane; dataDir: string; concurrency?: number }): Promise<Result[]> {
  const { cp, dataDir } = options;
  const concurrency = options.concurrency ?? 16;
  const account = (email: string) => DEV_ACCOUNTS.find((a) => a.email === email)!;
  const token = (email: string) => loginWithPassword({ issuer: cp.issuer, clientId: DEV_CLIENT_ID, audience: cp.audience, username: email, password: account(email).password }).then((t) => t.accessToken);
  const operator = await token('operator@example.com');
  const developer = await token('developer@example.com');
  const domain = `ingest-${randomUUID().slice(0, 8)}`;
  const tenant = (await call(`${cp.apiUrl}/v1/tenants`, 'POST', operator, { name: 'Ingest Bench', domain, plan: 'Pro', ownerEmail: `owner@${domain}.example` }))['tenant'] as { id: string };
  const app = await call(`${cp.apiUrl}/v1/apps`, 'POST', developer, { name: 'Ingest Bench App', clientType: 'confidential', grantTypes: ['client_credentials'] });
  const appId = String(app['clientId']);
  await call(`${cp.apiUrl}/v1/tenants/${tenant.id}/apps/${appId}`, 'PUT', operator);
  const key = String((await call(`${cp.apiUrl}/v1/apps/${appId}/keys`, 'POST', developer, { name: 'bench', scopes: ['bill:write', 'bill:read'] }))['key']);
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const url = `${cp.apiUrl}/v1/billing/events`;
  const event = (): Record<string, unknown> => ({ id: randomUUID(), tenantId: tenant.id, timestamp: new Date(Date.now() - 60_000).toISOString(), type: 'api.call', quantity: 1, metadata: { route: '/v1/things' } });
  // Distinct ids in every request: the consumer must store every event, not skip duplicates. Bounded
  // counts (10,000 + 2,000 events) keep the consumer row, which DynamoDB Local makes slow, to about a minute.
  const batches = Array.from({ length: 100 }, () => ({ url, method: 'POST' as const, headers, body: JSON.stringify({ events: Array.from({ length: BATCH }, event) }) }));
  const singles = Array.from({ length: 2_000 }, () => ({ url, method: 'POST' as const, headers, body: JSON.stringify(event()) }));

  const billing = QUEUES.find((q) => q.id === 'billing')!;
  const detach = (): void => registerLocalConsumer(dataDir, 'billing', undefined, { batchSize: billing.batchSize, maxReceiveCount: billing.maxReceiveCount });
  const attach = (): void => registerLocalConsumer(dataDir, 'billing', billingConsumer as LocalConsumer, { batchSize: billing.batchSize, maxReceiveCount: billing.maxReceiveCount });

  const generator = await HttpLoadGenerator.start();
  const probe = new CpuProbe(findDynamoDbLocalPid(cp.dynamoEndpoint));
  const results: Result[] = [];
  let enqueued = 0;
  try {
    detach();
    const plans: [string, HttpPlan, number][] = [
      [`POST /v1/billing/events (${BATCH} events per request) → queue`, { concurrency, maxRequests: batches.length, maxSeconds: SECONDS, requests: batches, expectStatus: 202 }, BATCH],
      ['POST /v1/billing/events (1 event per request) → queue', { concurrency, maxRequests: singles.length, maxSeconds: SECONDS, requests: singles, expectStatus: 202 }, 1],
    ];
    // Warm the handler module and the key cache with a few requests of their own.
    await generator.run({ concurrency: 2, maxRequests: 20, maxSeconds: 2, requests: Array.from({ length: 20 }, () => ({ url, method: 'POST' as const, headers, body: JSON.stringify(event()) })), expectStatus: 202 });
    enqueued += 20;
    for (const [name, plan, perRequest] of plans) {
      const r = (await generator.measure(name, plan, probe)).result;
      enqueued += r.requests * perRequest;
      const events = r.perSecond * perRequest;
      r.note = `${Math.round(events)} events/s accepted, ${Math.round(events / VCPUS)} per vCPU; server Node CPU ${r.cpuMsPerOp ? (r.cpuMsPerOp / perRequest).toFixed(3) : '?'} ms per event`;
      r.perVcpu = events / VCPUS;
      results.push(judge(r, [{ label: 'NFR-PERF-002 p95<500', met: r.p95 < 500 && r.errors === 0 }]));
    }

    // The consumer: everything the API rows queued, from the spool into the table and the archive.
    const before = probe.sample();
    const t0 = performance.now();
    attach();
    await localQueuesIdle(dataDir);
    const seconds = (performance.now() - t0) / 1000;
    const after = probe.sample();
    const r: Result = { name: 'billing consumer: queue → table (+ archive), events', requests: enqueued, concurrency: 1, perSecond: enqueued / seconds, p50: 0, p95: 0, p99: 0, errors: 0 };
    probe.account(r, before, after, false);
    r.perVcpu = r.perSecond / VCPUS;
    r.note = `${enqueued} events in ${seconds.toFixed(1)} s; one TransactWriteItems (event, idempotency key, day sum) per event on DynamoDB Local`;
    results.push(r);
  } finally {
    attach();
    await generator.stop();
  }
  return results;
}
