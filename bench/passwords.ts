/**
 * Password hashing cost on this machine: argon2id with the production parameters (ADR-0012), and the
 * password-policy check. Sequential (concurrency 1), as in a Lambda execution environment, which serves
 * one request at a time. `npx tsx bench/passwords.ts` prints a table; bench/run.ts may import
 * benchPasswords() to include the rows in its report.
 */
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Argon2idHasher } from '../shared/adapters/crypto/argon2-hasher';
import { checkPassword, DEFAULT_PASSWORD_POLICY } from '../shared/domain/identity/password-policy';

export interface PasswordBenchResult {
  name: string;
  requests: number;
  concurrency: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** n sequential calls; latencies in ms; `once` returns false for a wrong result (counted as an error). */
async function measure(name: string, n: number, once: (i: number) => Promise<boolean> | boolean): Promise<PasswordBenchResult> {
  const latencies: number[] = [];
  let errors = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    const ok = await Promise.resolve()
      .then(() => once(i))
      .catch(() => false);
    latencies.push(performance.now() - s);
    if (!ok) errors++;
  }
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return { name, requests: n, concurrency: 1, perSecond: n / seconds, p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), errors };
}

export async function benchPasswords(iterations = 40): Promise<PasswordBenchResult[]> {
  const hasher = new Argon2idHasher();
  const { memoryCost: m, timeCost: t, parallelism: p } = hasher.parameters;
  const label = `argon2id m=${m},t=${t},p=${p}`;
  const password = 'vivid-otter-lamp-2026';
  const stored = await hasher.hash(password);
  // Warm-up: first native call loads the addon; first burn awaits the dummy hash made at construction.
  await hasher.verify(stored, password);
  await hasher.burn(password);

  const results: PasswordBenchResult[] = [];
  results.push(await measure(`${label} hash`, iterations, async () => (await hasher.hash(password)).startsWith('$argon2id$')));
  results.push(await measure(`${label} verify (correct password)`, iterations, () => hasher.verify(stored, password)));
  results.push(await measure(`${label} verify (wrong password)`, iterations, async () => !(await hasher.verify(stored, `${password}x`))));
  results.push(await measure(`${label} burn (unknown account)`, iterations, async () => (await hasher.burn(password), true)));
  // The policy check is microseconds: more iterations, so the percentiles mean something.
  const candidates = ['vivid-otter-lamp-2026', 'Password1234', 'short', 'alice.liddell-rocks', '🔒'.repeat(20)];
  results.push(
    await measure('password policy check (default policy, 49k common list)', iterations * 250, (i) => {
      checkPassword(candidates[i % candidates.length] ?? '', DEFAULT_PASSWORD_POLICY, { email: 'alice.liddell@example.com', tenantDomain: 'acme' });
      return true;
    }),
  );
  return results;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const results = await benchPasswords();
  const fmt = (n: number): string => (Number.isFinite(n) ? n.toFixed(n >= 100 ? 0 : 3) : '-');
  const rows = [
    ['benchmark', 'requests', 'conc', 'per s', 'p50 ms', 'p95 ms', 'p99 ms', 'errors'],
    ...results.map((r) => [r.name, String(r.requests), String(r.concurrency), fmt(r.perSecond), fmt(r.p50), fmt(r.p95), fmt(r.p99), String(r.errors)]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  console.log(`\nPassword benchmarks (node ${process.version}, ${process.arch}, ${new Date().toISOString()})`);
  for (const row of rows) console.log(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
}
