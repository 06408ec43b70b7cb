/**
 * Issue #4 acceptance at size: 10,000 users in one tenant and 1,000 tenants, then the p95 of the user
 * list, user search, tenant search and password sign-in, each against the same request on a tenant of 10
 * users (tenant rows: against the same table when it held 10 tenants). Target: "no worse than with 10
 * users", judged as p95 at size ÷ p95 at 10 ≤ 1.5 (SCALE_RATIO_LIMIT: run-to-run noise on this machine
 * is ±30%, see doc/benchmarks.md).
 *
 * Set-up goes through the public API where a user would (tenants the bench signs in to, invitations,
 * the web app, suspensions). The bulk is seeded straight into the table through the app's own write paths:
 * - 1,000 tenants with `provisionTenant()` over `DynamoTenantStore` (the domain function and the adapter
 *   `POST /v1/tenants` runs: tenant, domain sentinel, search entries, invited Owner, email sentinel,
 *   invitation, plan flags, one transaction each), several in parallel;
 * - 10,000 users as the user item (`toUserItem`, plus the password hash an accepted invitation sets), its
 *   email sentinel, which is the tenant's user index (`toUserEmailItem`), and its status and role index
 *   entries (`toUserFilterItems`), with BatchWriteItem.
 * Every seeded user has the same argon2id PHC string, hashed once with the app's `Argon2idHasher`, so the
 * bench can sign in as any of them.
 *
 * Sign-in is throttled per IP (60/min) and per account (10/15 min); a success gives its units back, but
 * every attempt counts while it runs. The timed sign-ins are sent from
 * other loopback source addresses (127.0.0.2, 127.0.0.3: the local gateway takes the IP from the socket),
 * SIGN_INS per tenant size, spread over ≥ 8 accounts, so they neither hit the limit nor eat into the
 * budget of the token bench's sign-ins from 127.0.0.1.
 *
 * Every row is bounded by count and time (ROW_REQUESTS, ROW_SECONDS). The load loop runs in this process
 * (`load()` in bench/load.ts), so `node cpu ms/op` includes the fetch client.
 *
 * `npx tsx bench/scale.ts` runs it alone (own DynamoDB Local); `npm run bench` includes it and
 * `npm run bench -- --only scale` runs only it.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { BatchWriteCommand, type BatchWriteCommandInput, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Argon2idHasher } from '../shared/adapters/crypto/argon2-hasher';
import { createDocumentClient } from '../shared/adapters/dynamo/client';
import { toUserEmailItem, toUserFilterItems, toUserItem } from '../shared/adapters/dynamo/codecs';
import { DynamoTenantStore } from '../shared/adapters/dynamo/tenant-store';
import { DEFAULT_OPERATOR_GROUP, DEV_ACCOUNTS, DEV_CLIENT_ID } from '../shared/adapters/local/dev-idp';
import { latestMessage } from '../shared/adapters/local/outbox-mailer';
import { loginWithPassword } from '../shared/cli/operator-login';
import { cryptoIds, systemClock } from '../shared/composition';
import { ENV } from '../shared/config/constants';
import type { TenantUser, UserStatus } from '../shared/domain/model';
import { provisionTenant } from '../shared/domain/provisioning';
import { PLANS } from '../shared/domain/tenant';
import type { LocalControlPlane } from '../shared/local/control-plane';
import { benchControlPlane } from './control-plane';
import { Browser, hiddenFields } from '../test/support/browser';
import { API_TARGET, AUTH_TARGET, CpuProbe, findDynamoDbLocalPid, judge, latencyCheck, load, percentile, printTable, type Check, type LatencyTarget, type Result } from './load';

const REDIRECT = 'http://127.0.0.1:8977/callback';
const PASSWORD = 'violet-harbour-teapot-1987';

const BIG_USERS = 10_000;
/** Seeded users of the small tenant; with its Owner it has 10. */
const SMALL_SEEDED = 9;
const SEED_TENANTS = 1_000;
/** Tenants created through the API before seeding: the big and the small one, and eight more. */
const BASE_TENANTS = 10;
/** Suspended through the API: two of the base tenants, then every 100th seeded tenant. */
const BASE_SUSPENDED = 2;
const SEED_SUSPEND_EVERY = 100;
/** Disabled users of the big tenant, at these positions in email order (the index is sorted by email). */
const BIG_DISABLED = [1_000, 3_000, 5_000, 7_000, 9_000];
/** Writers in parallel while seeding. */
const SEED_WORKERS = 8;

/** Closed-loop workers, request count and time bound of every timed row. */
const CONCURRENCY = 4;
const ROW_REQUESTS = 300;
const ROW_SECONDS = 5;
const WARMUP = 40;
/**
 * The tenant rows at 10 tenants run first, while the DynamoDB Local JVM is still cold (its CPU per request
 * halves over the first thousands of requests); both sides of a tenant row get this longer warm-up.
 */
const TENANT_WARMUP = 400;
const TENANT_WARMUP_SECONDS = 3;
/** Timed sign-ins per tenant size, and their workers (see the module comment for the throttle). */
const SIGN_INS = 30;
const SIGN_IN_WORKERS = 2;
/** The cursor walk to the middle of the big tenant: pages of 100. */
const WALK_PAGE = 100;
const WALK_PAGES = BIG_USERS / WALK_PAGE / 2;
const WALK_MAX_PAGES = 200;
const WALK_SECONDS = 15;

/** "No worse than with 10 users", with room for this machine's noise. */
export const SCALE_RATIO_LIMIT = 1.5;
export const SCALE_LABEL = `issue #4 p95 at size <= ${SCALE_RATIO_LIMIT}x p95 at 10`;

export interface ScaleBenchOptions {
  /** An already running local control plane (bench/run.ts passes its own) and its data directory. */
  readonly cp?: LocalControlPlane;
  readonly dataDir?: string;
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers

interface JsonAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function call(url: string, init: { method: string; token?: string; body?: unknown }): Promise<JsonAnswer> {
  const headers: Record<string, string> = {};
  if (init.token) headers['authorization'] = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method: init.method, headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function must(what: string, p: Promise<JsonAnswer>, status: number): Promise<Record<string, unknown>> {
  const r = await p;
  if (r.status !== status) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  return r.body;
}

/** A list page: its items and cursor. */
interface ListPage {
  readonly status: number;
  readonly items: readonly Record<string, unknown>[];
  readonly nextCursor: string | null;
}

async function listPage(url: string, token: string): Promise<ListPage> {
  const r = await call(url, { method: 'GET', token });
  const items = Array.isArray(r.body['items']) ? (r.body['items'] as Record<string, unknown>[]) : [];
  const next = r.body['nextCursor'];
  return { status: r.status, items, nextCursor: typeof next === 'string' ? next : null };
}

function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

interface WebApp {
  readonly clientId: string;
  readonly authorization: string;
}

function authorizeUrl(cp: LocalControlPlane, app: WebApp, tenantDomain: string, state: string, verifier: string): string {
  const u = new URL(`${cp.apiUrl}/authorize`);
  for (const [k, v] of Object.entries({
    client_id: app.clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: 'openid offline_access',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state,
    tenant: tenantDomain,
  })) {
    u.searchParams.set(k, v);
  }
  return u.toString();
}

/** A filled-in login form, up to its POST (which is what the sign-in rows time). */
interface PreparedSignIn {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** GET /authorize and GET /login as a browser would (fresh cookie jar), then the form's fields. */
async function prepareSignIn(cp: LocalControlPlane, app: WebApp, tenantDomain: string, email: string, state: string): Promise<PreparedSignIn> {
  const verifier = randomBytes(32).toString('base64url');
  const b = new Browser();
  const first = await b.request(authorizeUrl(cp, app, tenantDomain, state, verifier));
  if (first.status !== 302 || !first.location || !new URL(first.location).pathname.startsWith('/login')) throw new Error(`/authorize: HTTP ${first.status} -> ${first.location}`);
  const page = await b.request(first.location);
  const origin = new URL(cp.apiUrl).origin;
  const cookie = page.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!.trim())
    .join('; ');
  return {
    url: `${cp.apiUrl}/login`,
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin, ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams({ ...hiddenFields(page.body), email, password: PASSWORD }).toString(),
  };
}

/** POST from a chosen loopback source address (node:http: fetch cannot bind one). */
function postFrom(agent: Agent, localAddress: string, p: PreparedSignIn): Promise<{ status: number; location: string | null }> {
  const u = new URL(p.url);
  return new Promise((ok, ko) => {
    const req = httpRequest(
      {
        hostname: '127.0.0.1',
        port: Number(u.port),
        path: `${u.pathname}${u.search}`,
        method: 'POST',
        localAddress,
        agent,
        headers: { ...p.headers, host: u.host, 'content-length': String(Buffer.byteLength(p.body)) },
      },
      (res) => {
        res.resume();
        res.on('end', () => ok({ status: res.statusCode ?? 0, location: typeof res.headers.location === 'string' ? res.headers.location : null }));
        res.on('error', ko);
      },
    );
    req.on('error', ko);
    req.end(p.body);
  });
}

/** The whole sign-in of a user, code exchanged for tokens: the user access token for the admin API. */
async function userAccessToken(cp: LocalControlPlane, app: WebApp, tenantDomain: string, email: string): Promise<string> {
  const verifier = randomBytes(32).toString('base64url');
  const b = new Browser();
  const first = await b.request(authorizeUrl(cp, app, tenantDomain, 'owner', verifier));
  if (first.status !== 302 || !first.location) throw new Error(`/authorize: HTTP ${first.status}`);
  const page = await b.request(first.location);
  const posted = await b.request(`${cp.apiUrl}/login`, { form: { ...hiddenFields(page.body), email, password: PASSWORD } });
  const code = posted.location ? new URL(posted.location).searchParams.get('code') : null;
  if (posted.status !== 302 || !code) throw new Error(`sign-in of ${email} failed: HTTP ${posted.status}`);
  const res = await fetch(`${cp.apiUrl}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: app.authorization },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }),
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200 || typeof body['access_token'] !== 'string') throw new Error(`code exchange failed: HTTP ${res.status}`);
  return body['access_token'];
}

interface ApiTenant {
  readonly id: string;
  readonly domain: string;
  readonly ownerEmail: string;
}

async function provisionThroughApi(cp: LocalControlPlane, operator: string, domain: string): Promise<ApiTenant> {
  const ownerEmail = `owner@${domain}.example`;
  const created = await must('provisioning', call(`${cp.apiUrl}/v1/tenants`, { method: 'POST', token: operator, body: { name: `${domain} Inc`, domain, plan: 'Pro', ownerEmail } }), 201);
  return { id: (created['tenant'] as { id: string }).id, domain, ownerEmail };
}

/** FR-TENANT-001: the Owner accepts the invitation from the local outbox and chooses PASSWORD. */
async function acceptInvitation(cp: LocalControlPlane, dataDir: string, email: string): Promise<void> {
  const mail = await latestMessage(dataDir, { to: email, kind: 'invitation' });
  const link = mail?.text.match(/https?:\/\/\S+\/invitations\/accept\?token=\S+/)?.[0];
  if (!link) throw new Error(`no invitation for ${email} in the outbox`);
  const b = new Browser();
  const page = await b.request(link);
  const accepted = await b.request(`${cp.apiUrl}/invitations/accept`, { form: { ...hiddenFields(page.body), password: PASSWORD } });
  if (accepted.status !== 200) throw new Error(`accepting the invitation failed: HTTP ${accepted.status}`);
}

// ---------------------------------------------------------------------------------------------
// Seeding

type WriteRequests = NonNullable<BatchWriteCommandInput['RequestItems']>[string];

interface SeedStats {
  readonly latencies: number[];
  readonly seconds: number;
  retries: number;
}

/** Runs jobs 0..n-1 with `workers` in parallel; per-job latencies. */
async function parallel(n: number, workers: number, job: (i: number) => Promise<void>): Promise<SeedStats> {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(workers, n) }, async () => {
      while (next < n) {
        const i = next++;
        const s = performance.now();
        await job(i);
        latencies.push(performance.now() - s);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { latencies, seconds: (performance.now() - t0) / 1000, retries: 0 };
}

/** BatchWriteItem, 25 puts per call, unprocessed items retried with backoff. */
async function batchPut(db: DynamoDBDocumentClient, table: string, items: readonly Record<string, unknown>[]): Promise<SeedStats> {
  const chunks: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
  let retries = 0;
  const stats = await parallel(chunks.length, SEED_WORKERS, async (c) => {
    let pending: WriteRequests = chunks[c]!.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) {
        retries++;
        if (attempt > 10) throw new Error(`BatchWriteItem: ${pending.length} items still unprocessed after 10 retries`);
        await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
      }
      const out = await db.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = out.UnprocessedItems?.[table] ?? [];
    }
  });
  stats.retries = retries;
  return stats;
}

/**
 * A user as an accepted invitation leaves it (status, password hash), as items: user, email sentinel and
 * the status and role index entries.
 */
function userItems(u: TenantUser, passwordHash: string): Record<string, unknown>[] {
  return [{ ...toUserItem(u), passwordHash, passwordChangedAt: u.createdAt }, toUserEmailItem(u), ...toUserFilterItems(u)];
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const userEmail = (i: number, domain: string): string => `u${pad(i, 5)}@${domain}.example`;

function seedRow(name: string, stats: SeedStats, unit: number, what: string, probe: CpuProbe, before: ReturnType<CpuProbe['sample']>): Result {
  const r: Result = {
    name,
    requests: stats.latencies.length,
    concurrency: SEED_WORKERS,
    perSecond: stats.latencies.length / stats.seconds,
    p50: percentile(stats.latencies, 50),
    p95: percentile(stats.latencies, 95),
    p99: percentile(stats.latencies, 99),
    errors: 0,
    note: `${unit.toLocaleString('en-US')} ${what} in ${stats.seconds.toFixed(1)} s = ${(unit / stats.seconds).toFixed(0)}/s${stats.retries > 0 ? `, ${stats.retries} retries of unprocessed items` : ''}`,
  };
  return probe.account(r, before, probe.sample(), true);
}

// ---------------------------------------------------------------------------------------------
// Rows

/** Sets the ratio to the 10-user (10-tenant) row and judges the row at size. */
function pair(small: Result, big: Result, target: LatencyTarget): void {
  judge(small, [latencyCheck(small, target)]);
  const ratio = big.p95 / small.p95;
  big.versus = {
    reference: small.name,
    throughputRatio: big.perSecond / small.perSecond,
    p95Ratio: ratio,
    ...(big.cpuMsPerOp && small.cpuMsPerOp ? { cpuRatio: big.cpuMsPerOp / small.cpuMsPerOp } : {}),
  };
  const scale: Check = { label: SCALE_LABEL, met: Number.isFinite(ratio) && ratio <= SCALE_RATIO_LIMIT && big.errors === 0 && small.errors === 0 };
  judge(big, [latencyCheck(big, target), scale]);
}

/** Weighted mean of a per-request (or per-second) field over parts; undefined if any part lacks it. */
function weighted(parts: readonly Result[], field: (r: Result) => number | undefined, weight: (r: Result) => number): number | undefined {
  let sum = 0;
  let total = 0;
  for (const p of parts) {
    const v = field(p);
    if (v === undefined) return undefined;
    sum += v * weight(p);
    total += weight(p);
  }
  return total > 0 ? sum / total : undefined;
}

const secondsOf = (r: Result): number => (r.perSecond > 0 ? r.requests / r.perSecond : 0);

/** One row from the halves of an ABBA run: latencies pooled, CPU fields weighted by requests (time for vCPUs). */
function merge(name: string, parts: readonly Result[], latencies: readonly number[]): Result {
  const sorted = [...latencies].sort((a, b) => a - b);
  const requests = parts.reduce((n, p) => n + p.requests, 0);
  const seconds = parts.reduce((n, p) => n + secondsOf(p), 0);
  const byRequests = (r: Result): number => r.requests;
  const r: Result = {
    name,
    requests,
    concurrency: parts[0]?.concurrency ?? 0,
    perSecond: seconds > 0 ? requests / seconds : 0,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    errors: parts.reduce((n, p) => n + p.errors, 0),
  };
  const fields = {
    cpuMsPerOp: weighted(parts, (p) => p.cpuMsPerOp, byRequests),
    dbCpuMsPerOp: weighted(parts, (p) => p.dbCpuMsPerOp, byRequests),
    otherCpuMsPerOp: weighted(parts, (p) => p.otherCpuMsPerOp, byRequests),
    otherVcpus: weighted(parts, (p) => p.otherVcpus, secondsOf),
    machineBusy: weighted(parts, (p) => p.machineBusy, secondsOf),
  };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) Object.assign(r, { [k]: v });
  if (r.cpuMsPerOp !== undefined) r.cpuIncludesLoadGenerator = true;
  return r;
}

/**
 * The 10-user side and the size side of a pair, in the order A B B A (each half: n/2 requests, maxSeconds/2):
 * a drift in the machine's load (this VM is shared) then weighs on both sides alike. `once` gets the
 * side's request index, 0..n-1 over both halves.
 */
async function abba(names: readonly [string, string], onces: readonly [(i: number) => Promise<boolean>, (i: number) => Promise<boolean>], n: number, c: number, maxSeconds: number, probe: CpuProbe): Promise<[Result, Result]> {
  const latencies: [number[], number[]] = [[], []];
  const parts: [Result[], Result[]] = [[], []];
  const done = [0, 0];
  for (const side of [0, 1, 1, 0] as const) {
    const offset = done[side]!;
    const once = onces[side];
    const part = await load(
      names[side],
      Math.ceil(n / 2),
      c,
      async (i) => {
        const s = performance.now();
        try {
          return await once(offset + i);
        } finally {
          latencies[side].push(performance.now() - s);
        }
      },
      undefined,
      { maxSeconds: maxSeconds / 2, probe },
    );
    done[side] = offset + part.requests;
    parts[side].push(part);
  }
  return [merge(names[0], parts[0], latencies[0]), merge(names[1], parts[1], latencies[1])];
}

/** Follows nextCursor from `firstUrl`, one page at a time, bounded; a row of per-page latencies. */
async function walk(name: string, firstUrl: string, token: string, maxPages: number, probe: CpuProbe): Promise<{ result: Result; cursor: string | null; items: number; pages: number }> {
  const latencies: number[] = [];
  let errors = 0;
  let items = 0;
  let cursor: string | null = null;
  const before = probe.sample();
  const t0 = performance.now();
  do {
    const s = performance.now();
    const page = await listPage(cursor === null ? firstUrl : `${firstUrl}&cursor=${encodeURIComponent(cursor)}`, token);
    latencies.push(performance.now() - s);
    if (page.status !== 200) {
      errors++;
      break;
    }
    items += page.items.length;
    cursor = page.nextCursor;
  } while (cursor !== null && latencies.length < maxPages && performance.now() - t0 < WALK_SECONDS * 1000);
  const seconds = (performance.now() - t0) / 1000;
  const sorted = [...latencies].sort((a, b) => a - b);
  const result: Result = {
    name,
    requests: latencies.length,
    concurrency: 1,
    perSecond: latencies.length / seconds,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    errors,
  };
  probe.account(result, before, probe.sample(), true);
  return { result: judge(result, [latencyCheck(result, API_TARGET)]), cursor, items, pages: latencies.length };
}

export async function benchScale(options: ScaleBenchOptions = {}): Promise<Result[]> {
  const own = await benchControlPlane('scale', options);
  const { cp, dataDir } = own;
  const results: Result[] = [];
  const probe = new CpuProbe(findDynamoDbLocalPid(cp.dynamoEndpoint));
  const db = createDocumentClient({ endpoint: cp.dynamoEndpoint });
  const agent = new Agent({ keepAlive: true });
  try {
    const t0 = performance.now();
    const run = randomUUID().slice(0, 8);
    const api = cp.apiUrl;
    // Dev IdP accounts by group, not by position (the list has grown before).
    const login = (group: string): Promise<string> => {
      const account = DEV_ACCOUNTS.find((a) => a.groups.includes(group));
      if (!account) throw new Error(`no dev IdP account in group ${group}`);
      return loginWithPassword({ issuer: cp.issuer, clientId: DEV_CLIENT_ID, audience: cp.audience, username: account.email, password: account.password }).then((t) => t.accessToken);
    };
    const operator = await login(DEFAULT_OPERATOR_GROUP);
    const developer = await login('cp-developers');

    // --- Through the API: ten tenants (big, small, eight more), two suspended; the Owners of the big and
    // the small one accept their invitations; a web app enabled for both.
    const base: ApiTenant[] = [];
    for (let i = 0; i < BASE_TENANTS; i++) base.push(await provisionThroughApi(cp, operator, `s${run}-a${pad(i, 2)}`));
    const big = base[0]!;
    const small = base[1]!;
    for (const t of base.slice(BASE_TENANTS - BASE_SUSPENDED)) await must('suspending', call(`${api}/v1/tenants/${t.id}/suspend`, { method: 'POST', token: operator, body: { reason: 'bench' } }), 200);
    await acceptInvitation(cp, dataDir, big.ownerEmail);
    await acceptInvitation(cp, dataDir, small.ownerEmail);
    const web = await must('registering the web app', call(`${api}/v1/apps`, { method: 'POST', token: developer, body: { name: 'Scale Bench Web', clientType: 'confidential', redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token'] } }), 201);
    const app: WebApp = { clientId: String(web['clientId']), authorization: basic(String(web['clientId']), String(web['clientSecret'])) };
    for (const t of [big, small]) await must('enabling the web app', call(`${api}/v1/tenants/${t.id}/apps/${app.clientId}`, { method: 'PUT', token: operator }), 200);

    // One argon2id hash with the app's hasher, reused by every seeded user.
    const passwordHash = await new Argon2idHasher().hash(PASSWORD);
    const at = new Date().toISOString();
    const user = (tenantId: string, email: string, status: UserStatus): TenantUser => ({ id: randomUUID(), tenantId, email, role: 'User', status, createdAt: at });

    // The small tenant: its Owner and nine users (the last one Disabled).
    const smallUsers = Array.from({ length: SMALL_SEEDED }, (_, i) => user(small.id, userEmail(i, small.domain), i === SMALL_SEEDED - 1 ? 'Disabled' : 'Active'));
    await batchPut(db, cp.tableName, smallUsers.flatMap((u) => userItems(u, passwordHash)));
    const smallToken = await userAccessToken(cp, app, small.domain, small.ownerEmail);
    const bigToken = await userAccessToken(cp, app, big.domain, big.ownerEmail);
    const setupSeconds = (performance.now() - t0) / 1000;

    const rowOptions = { maxSeconds: ROW_SECONDS, probe };
    /** A GET row, after untimed warm-up requests: status 200 and the expected number of items. */
    const getRow = async (name: string, path: string, token: string, expectItems: number, warmup: number, warmupSeconds: number): Promise<Result> => {
      const once = async (): Promise<boolean> => {
        const p = await listPage(`${api}${path}`, token);
        return p.status === 200 && (expectItems === undefined || p.items.length === expectItems);
      };
      await load('warm-up', warmup, CONCURRENCY, once, undefined, { maxSeconds: warmupSeconds });
      return load(name, ROW_REQUESTS, CONCURRENCY, once, undefined, rowOptions);
    };
    const itemsOf = async (path: string, token: string): Promise<string> => {
      const p = await listPage(`${api}${path}`, token);
      return `${p.items.length} item${p.items.length === 1 ? '' : 's'} per page, nextCursor ${p.nextCursor === null ? 'null' : 'set'}`;
    };

    // --- Tenant search at 10 tenants (before seeding).
    const tenantRows = [
      { label: 'GET /v1/tenants?limit=25', base: '/v1/tenants?limit=25', size: '/v1/tenants?limit=25', atBase: BASE_TENANTS, atSize: 25 },
      { label: 'GET /v1/tenants?domainPrefix= (10 match)', base: `/v1/tenants?domainPrefix=s${run}-a0`, size: `/v1/tenants?domainPrefix=s${run}-t001`, atBase: 10, atSize: 10 },
      { label: 'GET /v1/tenants?status=Suspended', base: '/v1/tenants?status=Suspended', size: '/v1/tenants?status=Suspended', atBase: BASE_SUSPENDED, atSize: BASE_SUSPENDED + SEED_TENANTS / SEED_SUSPEND_EVERY },
    ];
    const tenantBase: Result[] = [];
    await listPage(`${api}/v1/tenants?limit=25`, operator);
    for (const r of tenantRows) {
      const row = await getRow(`${r.label} (${BASE_TENANTS} tenants)`, r.base, operator, r.atBase, TENANT_WARMUP, TENANT_WARMUP_SECONDS);
      row.note = await itemsOf(r.base, operator);
      tenantBase.push(row);
    }

    // --- Seeding: 1,000 tenants through provisionTenant + DynamoTenantStore, every 100th suspended through
    // the API; 10,000 users of the big tenant through BatchWriteItem.
    const store = new DynamoTenantStore(db, cp.tableName);
    const homeRegion = process.env[ENV.HOME_REGION] ?? 'local';
    const toSuspend: string[] = [];
    let before = probe.sample();
    const tenantStats = await parallel(SEED_TENANTS, SEED_WORKERS, async (i) => {
      const p = await provisionTenant(
        { tenants: store, clock: systemClock, ids: cryptoIds, homeRegion },
        { name: `Scale Tenant ${pad(i, 4)}`, domain: `s${run}-t${pad(i, 4)}`, plan: PLANS[i % PLANS.length]!, ownerEmail: `owner@t${pad(i, 4)}.scale.example` },
      );
      if (i % SEED_SUSPEND_EVERY === SEED_SUSPEND_EVERY / 2) toSuspend.push(p.tenant.id);
    });
    results.push(seedRow(`seed ${SEED_TENANTS.toLocaleString('en-US')} tenants (provisionTenant -> DynamoTenantStore.provision, 15-item transaction)`, tenantStats, SEED_TENANTS, 'tenants', probe, before));
    for (const id of toSuspend) await must('suspending', call(`${api}/v1/tenants/${id}/suspend`, { method: 'POST', token: operator, body: { reason: 'bench' } }), 200);

    const disabled = new Set(BIG_DISABLED);
    const bigUsers = Array.from({ length: BIG_USERS }, (_, i) => user(big.id, userEmail(i, big.domain), disabled.has(i) ? 'Disabled' : 'Active'));
    before = probe.sample();
    const userStats = await batchPut(db, cp.tableName, bigUsers.flatMap((u) => userItems(u, passwordHash)));
    results.push(seedRow(`seed ${BIG_USERS.toLocaleString('en-US')} users + email sentinels + status/role entries (BatchWriteItem, 25 items/call)`, userStats, BIG_USERS, 'users', probe, before));

    // --- Tenant search at 1,010 tenants.
    const tenantCount = BASE_TENANTS + SEED_TENANTS;
    await listPage(`${api}/v1/tenants?limit=25`, operator);
    for (const [i, r] of tenantRows.entries()) {
      const row = await getRow(`${r.label} (${tenantCount.toLocaleString('en-US')} tenants)`, r.size, operator, r.atSize, TENANT_WARMUP, TENANT_WARMUP_SECONDS);
      row.note = await itemsOf(r.size, operator);
      pair(tenantBase[i]!, row, API_TARGET);
      results.push(tenantBase[i]!, row);
    }

    // --- Users: each request on the 10-user tenant and on the 10,000-user tenant, A-B-B-A (see abba()).
    // The Owners' tokens.
    const users = (t: ApiTenant, query: string): string => `/v1/tenants/${t.id}/users?${query}`;
    const sizes = [
      { t: small, token: smallToken, label: `${SMALL_SEEDED + 1} users` },
      { t: big, token: bigToken, label: `${(BIG_USERS + 1).toLocaleString('en-US')} users` },
    ] as const;
    // Deep cursors: the middle of each tenant. The big one's is reached by walking pages of 100 once.
    const smallMiddle = (await listPage(`${api}${users(small, 'limit=5')}`, smallToken)).nextCursor;
    const walked = await walk(`GET /v1/tenants/{id}/users?limit=${WALK_PAGE}, cursor walk to the middle (${sizes[1].label})`, `${api}${users(big, `limit=${WALK_PAGE}`)}`, bigToken, WALK_PAGES, probe);
    walked.result.note = `${walked.pages} pages, ${walked.items} users, ${(walked.result.requests / walked.result.perSecond).toFixed(2)} s in all`;
    if (!smallMiddle || !walked.cursor) throw new Error('no cursor in the middle of a tenant');
    const middle = [smallMiddle, walked.cursor];

    const userRows: { label: string; query: (size: 0 | 1) => string; expect: readonly [number | undefined, number | undefined] }[] = [
      { label: 'GET /v1/tenants/{id}/users?limit=25 (first page)', query: () => 'limit=25', expect: [SMALL_SEEDED + 1, 25] },
      { label: 'GET /v1/tenants/{id}/users?limit=25&cursor= (middle)', query: (s) => `limit=25&cursor=${encodeURIComponent(middle[s]!)}`, expect: [5, 25] },
      { label: 'GET /v1/tenants/{id}/users?emailPrefix= (9-10 match)', query: (s) => (s === 0 ? 'emailPrefix=u0000' : 'emailPrefix=u0123'), expect: [SMALL_SEEDED, 10] },
      { label: 'GET /v1/tenants/{id}/users?status=Disabled (first page)', query: () => 'status=Disabled', expect: [undefined, undefined] },
    ];
    for (const r of userRows) {
      const paths = [users(small, r.query(0)), users(big, r.query(1))] as const;
      const onces = sizes.map((size, s) => async (): Promise<boolean> => {
        const p = await listPage(`${api}${paths[s]!}`, size.token);
        const expected = r.expect[s];
        return p.status === 200 && (expected === undefined || p.items.length === expected);
      });
      for (const once of onces) await load('warm-up', WARMUP, CONCURRENCY, once, undefined, { maxSeconds: 2 });
      const rows = await abba([`${r.label} (${sizes[0].label})`, `${r.label} (${sizes[1].label})`], [onces[0]!, onces[1]!], ROW_REQUESTS, CONCURRENCY, 2 * ROW_SECONDS, probe);
      for (const [s, row] of rows.entries()) row.note = `${await itemsOf(paths[s]!, sizes[s]!.token)}; A-B-B-A halves`;
      pair(rows[0], rows[1], API_TARGET);
      results.push(...rows);
    }
    results.push(walked.result);
    // How many requests a client needs to find every Disabled user of the big tenant.
    const disabledWalk = await walk(`GET /v1/tenants/{id}/users?status=Disabled, every page (${sizes[1].label})`, `${api}${users(big, 'status=Disabled')}`, bigToken, WALK_MAX_PAGES, probe);
    disabledWalk.result.note = `${disabledWalk.pages} requests to find ${disabledWalk.items} of ${BIG_DISABLED.length} Disabled users, ${(disabledWalk.result.requests / disabledWalk.result.perSecond).toFixed(2)} s in all${disabledWalk.cursor !== null ? ' (stopped by the bound)' : ''}`;
    results.push(disabledWalk.result);

    // --- Password sign-in: the login form's POST, from another loopback address per tenant size.
    const signInUsers = [
      smallUsers.filter((u) => u.status === 'Active').map((u) => u.email),
      Array.from({ length: 10 }, (_, k) => bigUsers[k * 1_111]!).filter((u) => u.status === 'Active').map((u) => u.email),
    ];
    const sources = ['127.0.0.2', '127.0.0.3'];
    const prepared: PreparedSignIn[][] = [];
    for (const [s, size] of sizes.entries()) {
      const emails = signInUsers[s]!;
      const list: PreparedSignIn[] = [];
      for (let i = 0; i < SIGN_INS; i++) list.push(await prepareSignIn(cp, app, size.t.domain, emails[i % emails.length]!, `scale-${s}-${i}`));
      prepared.push(list);
    }
    const signIn =
      (s: 0 | 1) =>
      async (i: number): Promise<boolean> => {
        const r = await postFrom(agent, sources[s]!, prepared[s]![i]!);
        return r.status === 302 && r.location !== null && r.location.startsWith(REDIRECT) && r.location.includes('code=');
      };
    const signRows = await abba([`POST /login (password sign-in, argon2id) (${sizes[0].label})`, `POST /login (password sign-in, argon2id) (${sizes[1].label})`], [signIn(0), signIn(1)], SIGN_INS, SIGN_IN_WORKERS, 30, probe);
    for (const [s, row] of signRows.entries()) row.note = `${row.requests} sign-ins over ${signInUsers[s]!.length} accounts, from ${sources[s]}; A-B-B-A halves`;
    pair(signRows[0], signRows[1], AUTH_TARGET);
    results.push(...signRows);

    const total = (performance.now() - t0) / 1000;
    const seedRows = results.filter((r) => r.name.startsWith('seed '));
    for (const r of seedRows) r.note = `${r.note}; set-up through the API ${setupSeconds.toFixed(1)} s, whole scale bench ${total.toFixed(0)} s`;
  } finally {
    agent.destroy();
    db.destroy();
    await own.stop();
  }
  return results;
}

/** The lines under the table: ratio and verdict per pair. */
export function scaleSummary(results: readonly Result[]): string[] {
  const f = (n: number | undefined, d = 0): string => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(d));
  const lines: string[] = [];
  const pairs = results.filter((r) => r.checks?.some((c) => c.label === SCALE_LABEL));
  if (pairs.length === 0) return lines;
  lines.push(`Scale (issue #4): p95 at size / p95 at 10 users (tenant rows: at 10 tenants); MET if <= ${SCALE_RATIO_LIMIT}x.`);
  for (const r of pairs) {
    const ref = results.find((x) => x.name === r.versus?.reference);
    const met = r.checks?.find((c) => c.label === SCALE_LABEL)?.met ? 'MET' : 'MISSED';
    const db = r.dbCpuMsPerOp !== undefined && ref?.dbCpuMsPerOp ? `, DynamoDB Local CPU ${f(r.dbCpuMsPerOp / ref.dbCpuMsPerOp, 2)}x` : '';
    // Other processes' load on the two sides: a difference shows a latency ratio that contention made.
    const noisy = r.otherVcpus !== undefined && ref?.otherVcpus !== undefined && Math.abs(r.otherVcpus - ref.otherVcpus) > 0.3 ? `; others took ${f(r.otherVcpus, 2)} vs ${f(ref.otherVcpus, 2)} vCPU: noisy` : '';
    lines.push(`  ${r.name}: p95 ${f(r.p95, 1)} ms vs ${f(ref?.p95, 1)} ms -> ${f(r.versus?.p95Ratio, 2)}x ${met} (node CPU/request ${f(r.versus?.cpuRatio, 2)}x${db}${noisy})`);
  }
  for (const r of results) if (r.name.startsWith('seed ') || r.name.includes('every page') || r.name.includes('cursor walk')) lines.push(`  ${r.name}: ${r.note ?? ''}`);
  return lines;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const results = await benchScale();
  printTable(`Scale benchmarks (node ${process.version}, ${new Date().toISOString()})`, results);
  for (const line of scaleSummary(results)) console.log(line);
}
