/**
 * `npm run bench [-- --json FILE] [-- --requests N] [-- --concurrency C] [-- --only scale]`
 * Runs the real local control plane (same handlers, DynamoDB Local in memory) and measures the API on
 * this machine, then the password hashing, token signing, scale (10,000 users, 1,000 tenants), token
 * endpoint and sign-in benchmarks (bench/passwords.ts, bench/signing.ts, bench/scale.ts, bench/token.ts).
 * `--only scale` runs the control plane and bench/scale.ts alone. Figures are for comparison between commits on
 * the same machine, not for production: DynamoDB Local is a JVM on the same 2 cores as the API.
 * doc/benchmarks.md explains every row.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { randomUUID } from 'node:crypto';
import { DEV_ACCOUNTS, DEV_CLIENT_ID } from '../shared/adapters/local/dev-idp';
import { AwsJwtOperatorVerifier } from '../shared/adapters/auth/operator-token-verifier';
import { loginWithPassword } from '../shared/cli/operator-login';
import { benchControlPlane } from './control-plane';
import { API_TARGET, cpuLayout, CpuProbe, findDynamoDbLocalPid, load, printTable, VCPUS, type Result } from './load';
import { benchPasswords } from './passwords';
import { benchSigning } from './signing';
import { benchScale, scaleSummary } from './scale';
import { benchToken, tokenSummary } from './token';
import { benchFlags } from './flags';
import { benchIngest } from './ingest';
import { exportBenchmark } from './export';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const REQUESTS = Number(arg('--requests') ?? 2000);
const CONCURRENCY = Number(arg('--concurrency') ?? 16);
const JSON_FILE = arg('--json');
const ONLY = arg('--only');
if (ONLY !== undefined && ONLY !== 'scale' && ONLY !== 'flags' && ONLY !== 'ingest') throw new Error(`--only ${ONLY}: the parts that run alone are "scale", "flags" and "ingest"`);

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadBefore = loadavg();
  const results: Result[] = [];
  // Pure CPU first, while nothing else of ours runs: argon2id and ES256 signing, one at a time.
  if (ONLY === undefined) {
    results.push(...(await benchPasswords()));
    results.push(...(await benchSigning()));
  }

  const own = await benchControlPlane('all');
  const { cp, dataDir } = own;
  const probe = new CpuProbe(findDynamoDbLocalPid(cp.dynamoEndpoint));
  let scaleRows: Result[] = [];
  try {
    // Scale first, on the still empty table: its tenant rows need a 10-tenant baseline. The rows below
    // then run on a table that also holds its 1,010 tenants and 10,000 users.
    if (ONLY === undefined || ONLY === 'scale') {
      scaleRows = await benchScale({ cp, dataDir });
      results.push(...scaleRows);
    }
    if (ONLY === undefined) {
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

      const o = { probe };
      results.push(await load('GET /health (no auth, no I/O)', REQUESTS, CONCURRENCY, async () => (await fetch(`${cp.apiUrl}/health`).then(async (r) => (await r.arrayBuffer(), r.ok))), undefined, o));
      results.push(await load('GET /v1/tenants/{id}', REQUESTS, CONCURRENCY, (i) => get(`/v1/tenants/${ids[i % ids.length]}`), API_TARGET, o));
      results.push(await load('GET /v1/tenants?limit=25', REQUESTS, CONCURRENCY, () => get('/v1/tenants?limit=25'), API_TARGET, o));
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
          o,
        ),
      );

      // The operator token check alone, in process (signature + claims; JWKS cached after the first call).
      const verifier = new AwsJwtOperatorVerifier({ issuer: cp.issuer, audience: cp.audience, groupsClaim: 'groups' });
      await verifier.verify(accessToken);
      results.push(await load('operator JWT verify (in process, ES256)', 20_000, 1, async () => (await verifier.verify(accessToken), true), undefined, o));

    }
    if (ONLY === undefined || ONLY === 'flags') {
      // Flag delivery (issue #5): warm verification cache, 50 flags, 304s and full bodies. Before the token
      // part: its oidc-provider reference runs in this process, and its AsyncLocalStorage turns on promise
      // hooks for the whole isolate (Node 20), a cost no flag-delivery Lambda pays.
      results.push(...(await benchFlags({ cp, concurrency: CONCURRENCY })));
    }
    if (ONLY === undefined) {
      // Token endpoint, sign-in and the oidc-provider reference, against the same control plane.
      results.push(...(await benchToken({ cp, dataDir, concurrency: CONCURRENCY })));
    }
    if (ONLY === undefined || ONLY === 'ingest') {
      // Ingestion (issue #6): API → queue, queue → table; then the CSV export's rows/s.
      results.push(...(await benchIngest({ cp, dataDir, concurrency: CONCURRENCY })));
      results.push(...(await exportBenchmark(1_000_000)));
    }
  } finally {
    await own.stop();
  }

  const machine = { node: process.version, arch: process.arch, vcpus: VCPUS, cpuLayout: cpuLayout(), cpuModel: cpus()[0]?.model ?? '?', loadavgBefore: loadBefore, loadavgAfter: loadavg() };
  printTable(`Control plane benchmarks (node ${process.version}, ${cpuLayout()}, ${startedAt.toISOString()})`, results);
  console.log('');
  // tokenSummary reads every row with a `versus`: the scale rows have their own (ratio to 10 users).
  if (ONLY === undefined) for (const line of tokenSummary(results.filter((r) => !scaleRows.includes(r)))) console.log(line);
  for (const line of scaleSummary(scaleRows)) console.log(line);
  console.log(`load average (1/5/15 min) before ${machine.loadavgBefore.map((n) => n.toFixed(2)).join(' ')}, after ${machine.loadavgAfter.map((n) => n.toFixed(2)).join(' ')}`);
  if (JSON_FILE) {
    writeFileSync(JSON_FILE, `${JSON.stringify({ ...machine, at: startedAt.toISOString(), results }, null, 2)}\n`);
    console.log(`\nwrote ${JSON_FILE}`);
  }
}

await main();
