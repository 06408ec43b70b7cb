/**
 * Shared measurement helpers for `npm run bench`: the result row, closed-loop load (in process, or from
 * a separate load-generator process), CPU accounting, and the report table.
 *
 * CPU accounting (Linux; fields stay undefined elsewhere):
 * - `cpuMsPerOp`: user+system CPU of this Node process (the local API, its handlers, the AWS SDK client,
 *   libuv's thread pool: argon2, crypto) divided by the requests completed. When the load loop runs in
 *   this process too (`load()`), its share is included and `cpuIncludesLoadGenerator` is true.
 * - `loadGenCpuMsPerOp`: the separate load-generator process (`HttpLoadGenerator`), if one was used.
 * - `dbCpuMsPerOp`: the DynamoDB Local JVM (a child process), from /proc/<pid>/stat.
 * - `otherCpuMsPerOp` / `otherVcpus`: everything else the machine ran meanwhile (/proc/stat busy time
 *   minus the above), per request and as average vCPUs taken: other people's builds and tests on a
 *   shared machine show up here and make the run noisy. The table prints `otherVcpus`.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export interface Check {
  readonly label: string;
  readonly met: boolean;
}

export interface Result {
  name: string;
  requests: number;
  concurrency: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  /** Targets this row is judged against, joined; `meetsTarget` is true when every check is met. */
  target?: string;
  meetsTarget?: boolean;
  checks?: Check[];
  /** Node CPU ms per request of the process serving the requests (see the module comment). */
  cpuMsPerOp?: number;
  cpuIncludesLoadGenerator?: boolean;
  loadGenCpuMsPerOp?: number;
  dbCpuMsPerOp?: number;
  otherCpuMsPerOp?: number;
  /** Share of the machine's CPUs that were busy (any process) during the measurement, 0..1. */
  machineBusy?: number;
  /** vCPUs used on average by processes other than ours during the measurement (noise). */
  otherVcpus?: number;
  /** Throughput divided by the vCPUs of this machine (token rows). */
  perVcpu?: number;
  /** 1000 / cpuMsPerOp: requests one vCPU could serve if it ran only this Node code (token rows). */
  nodeCapacityPerVcpu?: number;
  /** Free text: what the row does not show. */
  note?: string;
  /** Ratios against a reference row (e.g. oidc-provider): ours / theirs. */
  versus?: { reference: string; throughputRatio: number; p95Ratio: number; cpuRatio?: number };
  firstError?: string;
}

export interface LatencyTarget {
  readonly p95: number;
  readonly p99: number;
  readonly label: string;
}

export const API_TARGET: LatencyTarget = { p95: 500, p99: 1000, label: 'NFR-PERF-002 p95<500 p99<1000' };
export const AUTH_TARGET: LatencyTarget = { p95: 1000, p99: 2000, label: 'NFR-PERF-001 p95<1000 p99<2000' };
/** Default bound per scenario, seconds. */
export const MAX_SECONDS = 20;

const GENERATOR_FLAG = '--http-load-generator';

/**
 * `BENCH_ISOLATE=1` (Linux, two or more CPUs, `taskset` installed): the server process (this one, all its
 * threads: libuv's pool, V8's helpers, the dev IdP's worker) runs alone on CPU 0, and the DynamoDB Local
 * JVM and the load generator on the other CPUs. The server's CPU per request is then measured as on a
 * dedicated vCPU with the database elsewhere, which is the condition Keycloak's and Unleash's per-vCPU
 * figures describe; without it the JVM and the generator compete for the same two cores and every
 * syscall and wake-up of the server costs more (doc/benchmarks.md). VCPUS then counts the server's CPUs
 * (1), so "measured ÷ vCPUs" is throughput per server vCPU. Rows whose load loop runs in this process
 * (`load()`) share CPU 0 with it.
 */
const ISOLATION = ((): { readonly others: string } | undefined => {
  if (process.env['BENCH_ISOLATE'] !== '1' || process.argv.includes(GENERATOR_FLAG)) return undefined;
  const n = availableParallelism();
  const pinned = process.platform === 'linux' && n >= 2 && spawnSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' }).status === 0;
  if (!pinned) {
    console.warn('BENCH_ISOLATE=1 ignored: it needs Linux, two or more CPUs and taskset');
    return undefined;
  }
  return { others: n === 2 ? '1' : `1-${n - 1}` };
})();
export const VCPUS = availableParallelism();

/** In isolated mode, moves a helper process (all its threads) off the server's CPU; otherwise nothing. */
export function keepOffServerCpu(pid: number | undefined): void {
  if (ISOLATION === undefined || pid === undefined) return;
  spawnSync('taskset', ['-a', '-p', '-c', ISOLATION.others, String(pid)], { stdio: 'ignore' });
}

/** One line on where the CPUs went, for the reports. */
export function cpuLayout(): string {
  return ISOLATION
    ? `server isolated on CPU 0 (BENCH_ISOLATE=1); DynamoDB Local and the load generator on CPU ${ISOLATION.others}`
    : `${VCPUS} vCPUs shared by the server, DynamoDB Local, the load generator and anything else running`;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

export function latencyCheck(r: Pick<Result, 'p95' | 'p99' | 'errors'>, t: LatencyTarget): Check {
  return { label: t.label, met: r.p95 < t.p95 && r.p99 < t.p99 && r.errors === 0 };
}

/** Sets checks, target and meetsTarget from a list of checks. */
export function judge(r: Result, checks: readonly Check[]): Result {
  if (checks.length === 0) return r;
  r.checks = [...checks];
  r.target = checks.map((c) => c.label).join('; ');
  r.meetsTarget = checks.every((c) => c.met);
  return r;
}

// ---------------------------------------------------------------------------------------------
// CPU accounting from /proc (Linux). Everything degrades to undefined when /proc is unavailable.

const CLK_TCK = ((): number => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

function ticksToMs(ticks: number): number {
  return (ticks * 1000) / CLK_TCK;
}

/** utime + stime of a process in ms, or undefined. */
function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ticksToMs(Number(f[11]) + Number(f[12]));
  } catch {
    return undefined;
  }
}

/** Busy time of all CPUs in ms (user, nice, system, irq, softirq, steal), or undefined. */
function machineBusyMs(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    const busy = [user, nice, system, irq, softirq, steal].reduce<number>((a, b) => a + (b ?? 0), 0);
    return Number.isFinite(busy) ? ticksToMs(busy) : undefined;
  } catch {
    return undefined;
  }
}

/** The DynamoDB Local JVM this process started, found by its parent pid and its -port argument. */
export function findDynamoDbLocalPid(endpoint: string): number | undefined {
  const port = new URL(endpoint).port;
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid !== process.pid) continue;
        const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
        const i = args.indexOf('-port');
        if (args.some((a) => a.endsWith('DynamoDBLocal.jar')) && i >= 0 && args[i + 1] === port) return Number(entry);
      } catch {
        // The process went away between readdir and read.
      }
    }
  } catch {
    // No /proc.
  }
  return undefined;
}

export interface CpuSample {
  readonly at: number;
  readonly nodeMs: number;
  readonly dbMs: number | undefined;
  readonly machineMs: number | undefined;
  readonly genMs: number | undefined;
}

/** Samples this process, the DynamoDB Local JVM (if known) and the whole machine. */
export class CpuProbe {
  constructor(
    private readonly dbPid: number | undefined,
    private readonly generatorPid?: number,
  ) {
    keepOffServerCpu(dbPid);
  }

  withGenerator(pid: number | undefined): CpuProbe {
    return new CpuProbe(this.dbPid, pid);
  }

  sample(): CpuSample {
    const u = process.cpuUsage();
    return {
      at: performance.now(),
      nodeMs: (u.user + u.system) / 1000,
      dbMs: this.dbPid !== undefined ? processCpuMs(this.dbPid) : undefined,
      machineMs: machineBusyMs(),
      genMs: this.generatorPid !== undefined ? processCpuMs(this.generatorPid) : undefined,
    };
  }

  /** Writes the per-request CPU fields of r from two samples. */
  account(r: Result, a: CpuSample, b: CpuSample, inProcessGenerator: boolean): Result {
    const n = Math.max(1, r.requests);
    const node = b.nodeMs - a.nodeMs;
    r.cpuMsPerOp = node / n;
    r.cpuIncludesLoadGenerator = inProcessGenerator;
    const gen = a.genMs !== undefined && b.genMs !== undefined ? b.genMs - a.genMs : undefined;
    if (gen !== undefined) r.loadGenCpuMsPerOp = gen / n;
    const db = a.dbMs !== undefined && b.dbMs !== undefined ? b.dbMs - a.dbMs : undefined;
    if (db !== undefined) r.dbCpuMsPerOp = db / n;
    if (a.machineMs !== undefined && b.machineMs !== undefined) {
      const machine = b.machineMs - a.machineMs;
      const other = Math.max(0, machine - node - (gen ?? 0) - (db ?? 0));
      r.otherCpuMsPerOp = other / n;
      r.otherVcpus = other / (b.at - a.at);
      r.machineBusy = Math.min(1, machine / ((b.at - a.at) * VCPUS));
    }
    return r;
  }
}

// ---------------------------------------------------------------------------------------------
// In-process closed-loop load (the load loop shares the event loop and the CPU account of the server).

/**
 * Closed-loop load in this process: c workers, n requests in all, bounded by maxSeconds. `once` gets the
 * request index and the worker index and returns false for a wrong answer (counted as an error).
 */
export async function load(
  name: string,
  n: number,
  c: number,
  once: (i: number, worker: number) => Promise<boolean>,
  target?: LatencyTarget,
  options: { maxSeconds?: number; probe?: CpuProbe } = {},
): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const before = options.probe?.sample();
  const t0 = performance.now();
  const stopAt = t0 + (options.maxSeconds ?? MAX_SECONDS) * 1000;
  await Promise.all(
    Array.from({ length: c }, async (_, worker) => {
      while (next < n && performance.now() < stopAt) {
        const i = next++;
        const s = performance.now();
        const ok = await once(i, worker).catch(() => false);
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
  if (options.probe && before) options.probe.account(r, before, options.probe.sample(), true);
  if (target) judge(r, [latencyCheck(r, target)]);
  return r;
}

// ---------------------------------------------------------------------------------------------
// Load from a separate process: the server's CPU account then holds only the server's work.

export interface PlannedRequest {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  readonly body?: string;
}

export interface HttpPlan {
  readonly concurrency: number;
  readonly maxRequests: number;
  readonly maxSeconds: number;
  /** Request i is requests[i % requests.length]. */
  readonly requests: readonly PlannedRequest[];
  readonly expectStatus: number;
  /** A 2xx JSON body must carry this field as a non-empty string. */
  readonly expectJsonField?: string;
  /**
   * Rotating refresh tokens, one chain per worker (length = concurrency): worker w appends
   * `&refresh_token=<chain[w]>` to the body and continues with the refresh_token of the answer. A failed
   * answer ends that worker's chain (the token may have rotated, or the family was revoked).
   */
  readonly chain?: readonly string[];
  /** Collect this response header of every answer (e.g. `location` of a sign-in's redirect). */
  readonly collectHeader?: string;
}

export interface HttpRunSummary {
  readonly count: number;
  readonly errors: number;
  readonly seconds: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  /** The generator's own CPU over the run, from process.cpuUsage(). */
  readonly cpuMs: number;
  readonly firstError?: string;
  /** The chains' last refresh tokens (undefined where a chain broke). */
  readonly chain?: readonly (string | null)[];
  readonly collected?: readonly string[];
}

async function runPlan(plan: HttpPlan): Promise<HttpRunSummary> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const chain: (string | null)[] | undefined = plan.chain ? [...plan.chain] : undefined;
  const collected: string[] = [];
  const fail = (why: string): void => {
    errors++;
    firstError ??= why.slice(0, 300);
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const stopAt = t0 + plan.maxSeconds * 1000;
  await Promise.all(
    Array.from({ length: plan.concurrency }, async (_, w) => {
      while (next < plan.maxRequests && performance.now() < stopAt) {
        if (chain && !chain[w]) return;
        const r = plan.requests[next++ % plan.requests.length]!;
        const body = chain ? `${r.body ?? ''}&refresh_token=${encodeURIComponent(chain[w]!)}` : r.body;
        const s = performance.now();
        try {
          const res = await fetch(r.url, { method: r.method, headers: r.headers, redirect: 'manual', ...(body !== undefined ? { body } : {}) });
          const text = await res.text();
          latencies.push(performance.now() - s);
          const header = plan.collectHeader !== undefined ? res.headers.get(plan.collectHeader) : null;
          if (header !== null) collected.push(header);
          if (res.status !== plan.expectStatus) {
            fail(`HTTP ${res.status}: ${text}`);
            if (chain) chain[w] = null;
            continue;
          }
          if (plan.expectJsonField !== undefined || chain) {
            const json = JSON.parse(text) as Record<string, unknown>;
            if (plan.expectJsonField !== undefined && (typeof json[plan.expectJsonField] !== 'string' || json[plan.expectJsonField] === '')) fail(`no ${plan.expectJsonField} in ${text}`);
            if (chain) {
              const rotated = json['refresh_token'];
              chain[w] = typeof rotated === 'string' ? rotated : null;
              if (typeof rotated !== 'string') fail(`no refresh_token in ${text}`);
            }
          }
        } catch (err) {
          latencies.push(performance.now() - s);
          fail(err instanceof Error ? err.message : String(err));
          if (chain) chain[w] = null;
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  return {
    count: latencies.length,
    errors,
    seconds,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    cpuMs: (cpu.user + cpu.system) / 1000,
    ...(firstError !== undefined ? { firstError } : {}),
    ...(chain ? { chain } : {}),
    ...(plan.collectHeader !== undefined ? { collected } : {}),
  };
}

interface GeneratorReply {
  readonly id: number;
  readonly summary?: HttpRunSummary;
  readonly error?: string;
}

/**
 * A load generator in a child Node process (this module, forked with the parent's tsx loader). It runs
 * one plan at a time; requests go to loopback only.
 */
/**
 * `BENCH_CPU_PROFILE=<dir>` writes a V8 CPU profile of the server process per measured row (open it in
 * Chrome DevTools or speedscope). Off by default: the sampler itself costs CPU and would skew the rows.
 */
async function startProfile(): Promise<{ stop(label: string): Promise<void> } | undefined> {
  const dir = process.env['BENCH_CPU_PROFILE'];
  if (!dir) return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop(label) {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${label.replace(/[^\w.=-]+/g, '_').slice(0, 120)}.cpuprofile`), JSON.stringify(profile));
    },
  };
}

export class HttpLoadGenerator {
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (s: HttpRunSummary) => void; reject: (e: Error) => void }>();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: GeneratorReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.summary) p.resolve(m.summary);
      else p.reject(new Error(m.error ?? 'load generator failed'));
    });
    child.once('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`load generator exited (${code})`));
      this.pending.clear();
    });
  }

  static async start(): Promise<HttpLoadGenerator> {
    const child = fork(fileURLToPath(import.meta.url), [GENERATOR_FLAG], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    keepOffServerCpu(child.pid);
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`load generator exited during start-up (${code})`)));
    });
    return new HttpLoadGenerator(child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  run(plan: HttpPlan): Promise<HttpRunSummary> {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, plan });
    });
  }

  /**
   * Runs a plan and turns it into a row: latency and throughput from the generator, CPU from this
   * process (the server only), the generator, the JVM and the machine.
   */
  async measure(name: string, plan: HttpPlan, probe: CpuProbe): Promise<{ result: Result; chain?: readonly (string | null)[]; collected?: readonly string[] }> {
    const p = probe.withGenerator(this.pid);
    const profiler = await startProfile();
    const before = p.sample();
    const s = await this.run(plan);
    const after = p.sample();
    await profiler?.stop(`${name} c=${plan.concurrency}`);
    const result: Result = {
      name,
      requests: s.count,
      concurrency: plan.concurrency,
      perSecond: s.count / s.seconds,
      p50: s.p50,
      p95: s.p95,
      p99: s.p99,
      errors: s.errors,
      ...(s.firstError !== undefined ? { firstError: s.firstError } : {}),
    };
    p.account(result, before, after, false);
    // The generator measures itself more precisely than /proc's 10 ms ticks.
    result.loadGenCpuMsPerOp = s.cpuMs / Math.max(1, s.count);
    return { result, ...(s.chain ? { chain: s.chain } : {}), ...(s.collected ? { collected: s.collected } : {}) };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      if (this.child.connected) this.child.disconnect();
      else this.child.kill('SIGTERM');
      setTimeout(() => this.child.kill('SIGKILL'), 5_000).unref();
    });
  }
}

if (process.argv.includes(GENERATOR_FLAG) && process.send) {
  const send = process.send.bind(process);
  process.on('message', (m: { id: number; plan: HttpPlan }) => {
    runPlan(m.plan).then(
      (summary) => send({ id: m.id, summary } satisfies GeneratorReply),
      (err: unknown) => send({ id: m.id, error: err instanceof Error ? err.message : String(err) } satisfies GeneratorReply),
    );
  });
  process.on('disconnect', () => process.exit(0));
  send({ ready: true });
}

// ---------------------------------------------------------------------------------------------
// Report

function fmt(n: number | undefined, digits = 2): string {
  if (n === undefined || !Number.isFinite(n)) return '-';
  return n.toFixed(n >= 100 ? 0 : digits);
}

export function printTable(title: string, results: readonly Result[]): void {
  const rows = [
    ['benchmark', 'requests', 'conc', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'errors', 'node cpu ms/op', 'db cpu ms/op', 'others vCPU', 'target'],
    ...results.map((r) => [
      r.name,
      String(r.requests),
      String(r.concurrency),
      fmt(r.perSecond),
      fmt(r.p50),
      fmt(r.p95),
      fmt(r.p99),
      String(r.errors),
      r.cpuMsPerOp === undefined ? '-' : `${fmt(r.cpuMsPerOp, 3)}${r.cpuIncludesLoadGenerator ? '*' : ''}`,
      fmt(r.dbCpuMsPerOp, 3),
      fmt(r.otherVcpus, 2),
      r.checks ? r.checks.map((c) => `${c.met ? 'MET' : 'MISSED'} ${c.label}`).join('; ') : '',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  console.log(`\n${title}`);
  for (const row of rows) console.log(row.map((c, i) => (i === 0 || i === row.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd());
  if (results.some((r) => r.cpuIncludesLoadGenerator)) console.log('* includes the in-process load generator (fetch client) in the same Node process');
  for (const r of results) if (r.firstError) console.log(`first error in "${r.name}": ${r.firstError}`);
}
