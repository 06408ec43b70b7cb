/**
 * `npm run bench [-- --json FILE] [-- --requests N] [-- --concurrency C]`
 * Runs the real local control plane (same handlers, DynamoDB Local in memory) and measures the API on
 * this machine. Figures are for comparison between commits on the same machine, not for production:
 * DynamoDB Local is a JVM on the same 2 cores as the API.
 */
import { writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DEV_ACCOUNTS, DEV_CLIENT_ID } from '../shared/adapters/local/dev-idp';
import { startDynamoDbLocal } from '../shared/adapters/local/dynamodb-local';
import { AwsJwtOperatorVerifier } from '../shared/adapters/auth/operator-token-verifier';
import { loginWithPassword } from '../shared/cli/operator-login';
import { startLocalControlPlane } from '../shared/local/control-plane';

interface Result {
  name: string;
  requests: number;
  concurrency: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  target?: string;
  meetsTarget?: boolean;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const REQUESTS = Number(arg('--requests') ?? 2000);
const CONCURRENCY = Number(arg('--concurrency') ?? 16);
const JSON_FILE = arg('--json');
const MAX_SECONDS = 60;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** Closed-loop load: C workers, N requests in all, bounded by MAX_SECONDS. */
async function load(name: string, n: number, c: number, once: (i: number) => Promise<boolean>, target?: { p95: number; p99: number; label: string }): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const stopAt = performance.now() + MAX_SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (next < n && performance.now() < stopAt) {
        const i = next++;
        const s = performance.now();
        const ok = await once(i).catch(() => false);
        latencies.push(performance.now() - s);
        if (!ok) errors++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const r: Result = {
    name,
    requests: latencies.length,
    concurrency: c,
    perSecond: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    errors,
  };
  if (target) {
    r.target = target.label;
    r.meetsTarget = r.p95 < target.p95 && r.p99 < target.p99 && errors === 0;
  }
  return r;
}

const API_TARGET = { p95: 500, p99: 1000, label: 'NFR-PERF-002 p95<500 p99<1000' };

async function main(): Promise<void> {
  const ddb = await startDynamoDbLocal();
  const cp = await startLocalControlPlane({
    root: resolve(import.meta.dirname, '..'),
    dataDir: mkdtempSync(join(tmpdir(), 'cp-bench-')),
    port: 0,
    idpPort: 0,
    dynamoEndpoint: ddb.endpoint,
    tableName: `bench-${randomUUID()}`,
    homeRegion: 'local',
    logLevel: 'silent',
  });
  const results: Result[] = [];
  try {
    const account = DEV_ACCOUNTS[0]!;
    const { accessToken } = await loginWithPassword({ issuer: cp.issuer, clientId: DEV_CLIENT_ID, audience: cp.audience, username: account.email, password: account.password });
    const auth = { authorization: `Bearer ${accessToken}` };
    const get = async (path: string): Promise<boolean> => {
      const res = await fetch(`${cp.apiUrl}${path}`, { headers: auth });
      await res.arrayBuffer();
      return res.ok;
    };

    // Warm up: the first request JIT-provisions the operator and loads every handler module.
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const res = await fetch(`${cp.apiUrl}/v1/tenants`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `Seed ${i}`, domain: `seed-${i}`, plan: 'Pro', ownerEmail: `owner${i}@seed.example` }),
      });
      ids.push(((await res.json()) as { tenant: { id: string } }).tenant.id);
    }
    await get('/v1/tenants?limit=25');

    results.push(await load('GET /health (no auth, no I/O)', REQUESTS, CONCURRENCY, async () => (await fetch(`${cp.apiUrl}/health`).then(async (r) => (await r.arrayBuffer(), r.ok)))));
    results.push(await load('GET /v1/tenants/{id}', REQUESTS, CONCURRENCY, (i) => get(`/v1/tenants/${ids[i % ids.length]}`), API_TARGET));
    results.push(await load('GET /v1/tenants?limit=25', REQUESTS, CONCURRENCY, () => get('/v1/tenants?limit=25'), API_TARGET));
    const run = randomUUID().slice(0, 8);
    results.push(
      await load(
        'POST /v1/tenants (6-item transaction + audit)',
        Math.min(REQUESTS, 1000),
        CONCURRENCY,
        async (i) => {
          const res = await fetch(`${cp.apiUrl}/v1/tenants`, {
            method: 'POST',
            headers: { ...auth, 'content-type': 'application/json' },
            body: JSON.stringify({ name: `Bench ${i}`, domain: `b-${run}-${i}`, plan: 'Free', ownerEmail: `o${i}@bench.example` }),
          });
          await res.arrayBuffer();
          return res.status === 201;
        },
        API_TARGET,
      ),
    );

    // The operator token check alone, in process (signature + claims; JWKS cached after the first call).
    const verifier = new AwsJwtOperatorVerifier({ issuer: cp.issuer, audience: cp.audience, groupsClaim: 'groups' });
    await verifier.verify(accessToken);
    results.push(await load('operator JWT verify (in process, ES256)', 20_000, 1, async () => (await verifier.verify(accessToken), true)));
  } finally {
    await cp.stop();
    await ddb.stop();
  }

  const fmt = (n: number): string => (Number.isFinite(n) ? n.toFixed(n >= 100 ? 0 : 2) : '-');
  const rows = [
    ['benchmark', 'requests', 'conc', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'errors', 'target'],
    ...results.map((r) => [r.name, String(r.requests), String(r.concurrency), fmt(r.perSecond), fmt(r.p50), fmt(r.p95), fmt(r.p99), String(r.errors), r.target ? `${r.meetsTarget ? 'MET' : 'MISSED'} ${r.target}` : '']),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  console.log(`\nControl plane benchmarks (node ${process.version}, ${new Date().toISOString()})`);
  for (const row of rows) console.log(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  if (JSON_FILE) {
    writeFileSync(JSON_FILE, `${JSON.stringify({ node: process.version, at: new Date().toISOString(), results }, null, 2)}\n`);
    console.log(`\nwrote ${JSON_FILE}`);
  }
}

await main();
