/**
 * Flag delivery (issue #5): requests/s and latency for a warm cache — 304s and full bodies — with 50 flags,
 * through the REST delivery endpoint and OFREP bulk evaluation. Load comes from a separate process, so
 * the server's CPU per request is its own. Reference: Unleash Edge ~6,900 req/s at p95 7.4 ms per CPU
 * with 350 flags (the figure).
 */
import { randomUUID } from 'node:crypto';
import { DEV_ACCOUNTS, DEV_CLIENT_ID } from '../shared/adapters/local/dev-idp';
import { loginWithPassword } from '../shared/cli/operator-login';
import type { LocalControlPlane } from '../shared/local/control-plane';
import { CpuProbe, findDynamoDbLocalPid, HttpLoadGenerator, judge, VCPUS, type HttpPlan, type Result } from './load';

const FLAGS = 50;
const SECONDS = 10;
const UNLEASH_EDGE_PER_CPU = 6_900;

async function call(url: string, method: string, token: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${text.slice(0, 200)}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

export async function benchFlags(options: { cp: LocalControlPlane; concurrency?: number }): Promise<Result[]> {
  const { cp } = options;
  const concurrency = options.concurrency ?? 16;
  const account = (email: string) => DEV_ACCOUNTS.find((a) => a.email === email)!;
  const token = (email: string) => loginWithPassword({ issuer: cp.issuer, clientId: DEV_CLIENT_ID, audience: cp.audience, username: email, password: account(email).password }).then((t) => t.accessToken);
  const operator = await token('operator@example.com');
  const developer = await token('developer@example.com');
  const domain = `flags-${randomUUID().slice(0, 8)}`;
  const tenant = (await call(`${cp.apiUrl}/v1/tenants`, 'POST', operator, { name: 'Flag Bench', domain, plan: 'Pro', ownerEmail: `owner@${domain}.example` }))['tenant'] as { id: string };
  const app = await call(`${cp.apiUrl}/v1/apps`, 'POST', developer, { name: 'Flag Bench App', clientType: 'confidential', grantTypes: ['client_credentials'] });
  const appId = String(app['clientId']);
  await call(`${cp.apiUrl}/v1/tenants/${tenant.id}/apps/${appId}`, 'PUT', operator);
  const key = String((await call(`${cp.apiUrl}/v1/apps/${appId}/keys`, 'POST', developer, { name: 'bench', scopes: ['flag:read'] }))['key']);
  // Pro carries 4 plan flags; add overrides of every type up to 50.
  for (let i = 0; FLAGS - 4 > i; i++) {
    const value = i % 4 === 0 ? true : i % 4 === 1 ? `variant-${i}` : i % 4 === 2 ? i * 10 : { limit: i, tier: 'gold' };
    await call(`${cp.apiUrl}/v1/tenants/${tenant.id}/flags/bench_flag_${i}`, 'PUT', operator, { value });
  }
  const auth = { authorization: `Bearer ${key}` };
  const restUrl = `${cp.apiUrl}/v1/flags?tenantId=${tenant.id}`;
  const first = await fetch(restUrl, { headers: auth });
  const etag = first.headers.get('etag') ?? '';
  const count = Object.keys(((await first.json()) as { flags: Record<string, unknown> }).flags).length;
  const ofrepUrl = `${cp.apiUrl}/ofrep/v1/evaluate/flags`;
  const ofrepBody = JSON.stringify({ context: { targetingKey: 'user-1', tenantId: tenant.id } });
  const ofrepFirst = await fetch(ofrepUrl, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: ofrepBody });
  const ofrepEtag = ofrepFirst.headers.get('etag') ?? '';

  const plans: [string, HttpPlan][] = [
    [`GET /v1/flags (${count} flags, full body)`, { concurrency, maxRequests: 100_000, maxSeconds: SECONDS, requests: [{ url: restUrl, method: 'GET', headers: auth }], expectStatus: 200 }],
    ['GET /v1/flags (If-None-Match → 304)', { concurrency, maxRequests: 100_000, maxSeconds: SECONDS, requests: [{ url: restUrl, method: 'GET', headers: { ...auth, 'if-none-match': etag } }], expectStatus: 304 }],
    [`POST /ofrep/v1/evaluate/flags (${count} flags, full body)`, { concurrency, maxRequests: 100_000, maxSeconds: SECONDS, requests: [{ url: ofrepUrl, method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: ofrepBody }], expectStatus: 200 }],
    ['POST /ofrep/v1/evaluate/flags (If-None-Match → 304)', { concurrency, maxRequests: 100_000, maxSeconds: SECONDS, requests: [{ url: ofrepUrl, method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'if-none-match': ofrepEtag }, body: ofrepBody }], expectStatus: 304 }],
  ];
  const generator = await HttpLoadGenerator.start();
  const probe = new CpuProbe(findDynamoDbLocalPid(cp.dynamoEndpoint));
  const results: Result[] = [];
  try {
    for (const [name, plan] of plans) {
      await generator.run({ ...plan, maxSeconds: 2, maxRequests: 200 }); // warm: key cache, handler modules
      const r = (await generator.measure(name, plan, probe)).result;
      r.perVcpu = r.perSecond / VCPUS;
      const perCpu = r.cpuMsPerOp ? 1000 / r.cpuMsPerOp : undefined;
      if (perCpu !== undefined) r.nodeCapacityPerVcpu = perCpu;
      results.push(
        judge(r, [
          { label: `Unleash Edge ${UNLEASH_EDGE_PER_CPU} req/s per CPU (measured ÷ ${VCPUS} vCPU)`, met: r.perSecond / VCPUS >= UNLEASH_EDGE_PER_CPU && r.errors === 0 },
          // What Unleash's figure counts: the server's own CPU (the load generator shares our 2 vCPUs).
          { label: `Unleash Edge ${UNLEASH_EDGE_PER_CPU} req/s per CPU by node CPU alone`, met: (perCpu ?? 0) >= UNLEASH_EDGE_PER_CPU && r.errors === 0 },
          { label: 'NFR-PERF-002 p95<500', met: r.p95 < 500 && r.errors === 0 },
        ]),
      );
      if (perCpu !== undefined) r.note = `server Node CPU alone would serve ~${Math.round(perCpu)} req/s per vCPU`;
    }
  } finally {
    await generator.stop();
  }
  return results;
}
