/**
 * Issue #4: GET /v1/tenants searches by domain/name prefix, status and plan, cursor-paginated, answered by
 * GSI1 Queries over the tenants' search entries (shared/adapters/dynamo/keys.ts, TENANT SEARCH). Through
 * HTTP against DynamoDB Local; lifecycle changes and the purge job must keep the entries in step.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as purgeJob } from '../../functions/jobs/purge-tenants';
import { DynamoTenantStore } from '../../shared/adapters/dynamo/tenant-store';
import { PLANS, type Plan, type TenantStatus } from '../../shared/domain/tenant';
import { api, startHarness, type Harness } from '../support/harness';
import { ROOT } from '../support/paths';

interface Row {
  id: string;
  name: string;
  domain: string;
  plan: Plan;
  status: TenantStatus;
  createdAt: string;
}

let h: Harness;
let operator: string;
/** What the table should hold, kept in step with every change the tests make. */
const tenants: Row[] = [];

async function create(name: string, domain: string, plan: Plan): Promise<Row> {
  const res = await api(h, 'POST', '/v1/tenants', { token: operator, body: { name, domain, plan, ownerEmail: `owner@${domain}.example` } });
  expect(res.status).toBe(201);
  const row = res.body['tenant'] as Row;
  tenants.push(row);
  return row;
}

function setStatus(id: string, status: TenantStatus): void {
  const row = tenants.find((t) => t.id === id);
  if (!row) throw new Error(`unknown tenant ${id}`);
  row.status = status;
}

async function page(query: Record<string, string>): Promise<{ status: number; items: Row[]; nextCursor: string | null; body: Record<string, unknown> }> {
  const res = await api(h, 'GET', `/v1/tenants?${new URLSearchParams(query).toString()}`, { token: operator });
  return { status: res.status, items: (res.body['items'] ?? []) as Row[], nextCursor: (res.body['nextCursor'] ?? null) as string | null, body: res.body };
}

/** Follows cursors to the end; every page within the limit, and no tenant twice. */
async function searchAll(query: Record<string, string>, limit = 100): Promise<{ items: Row[]; pages: number }> {
  const items: Row[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const p = await page({ ...query, limit: String(limit), ...(cursor ? { cursor } : {}) });
    expect(p.status).toBe(200);
    expect(p.items.length).toBeLessThanOrEqual(limit);
    items.push(...p.items);
    cursor = p.nextCursor;
    pages++;
  } while (cursor && pages < 100);
  expect(cursor).toBeNull();
  expect(new Set(items.map((t) => t.id)).size).toBe(items.length);
  return { items, pages };
}

const byAge = (a: Row, b: Row): number => (a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1);
const byDomain = (a: Row, b: Row): number => (a.domain < b.domain ? -1 : 1);
const ids = (rows: readonly Row[]): string[] => rows.map((t) => t.id);
const domains = (rows: readonly Row[]): string[] => rows.map((t) => t.domain);

const GROUPS = ['alpha', 'beta', 'gamma'] as const;
const SUSPENDED = ['alpha-01', 'alpha-04', 'beta-02', 'gamma-07', 'gamma-09'];

beforeAll(async () => {
  h = await startHarness();
  operator = await h.operatorToken();
  // 30 tenants in three domain/name groups, plans in rotation, created interleaved so that creation
  // order, domain order and name order all differ.
  for (let i = 0; i < 10; i++) {
    for (const [g, group] of GROUPS.entries()) {
      await create(`${group.toUpperCase()} Team ${String(9 - i).padStart(2, '0')}`, `${group}-${String(i).padStart(2, '0')}`, PLANS[(i + g) % 3]!);
    }
  }
  // Names that test normalisation and the '#' separator of the name index.
  await create('Ab', 'ab-edge', 'Free');
  await create('Ab#Hash  Co', 'hash-edge', 'Pro');
  await create('Über   Systems', 'uber-systems', 'Enterprise');
  for (const domain of SUSPENDED) {
    const t = tenants.find((x) => x.domain === domain)!;
    const res = await api(h, 'POST', `/v1/tenants/${t.id}/suspend`, { token: operator, body: { reason: 'search test' } });
    expect(res.status).toBe(200);
    setStatus(t.id, 'Suspended');
  }
}, 180_000);

afterAll(async () => {
  await h?.stop();
});

describe('NFR-CAP-001: prefix search', () => {
  it('NFR-CAP-001: domainPrefix finds exactly the matching tenants, sorted by domain, whatever the case typed', async () => {
    const expected = tenants.filter((t) => t.domain.startsWith('alpha')).sort(byDomain);
    expect(expected).toHaveLength(10);
    expect(domains((await searchAll({ domainPrefix: 'alpha' })).items)).toEqual(domains(expected));
    expect(domains((await searchAll({ domainPrefix: 'ALPHA-0' })).items)).toEqual(domains(expected));
    expect(domains((await searchAll({ domainPrefix: 'alpha-05' })).items)).toEqual(['alpha-05']);
    expect((await searchAll({ domainPrefix: 'delta' })).items).toEqual([]);
  });

  it('NFR-CAP-001: namePrefix is case-insensitive and ignores how whitespace is spaced; results are sorted by name', async () => {
    const expected = tenants.filter((t) => t.name.startsWith('BETA Team')).sort((a, b) => (a.name < b.name ? -1 : 1));
    expect(expected).toHaveLength(10);
    const r = await searchAll({ namePrefix: '  beta   TEAM ' });
    expect(r.items.map((t) => t.name)).toEqual(expected.map((t) => t.name));
    expect(domains((await searchAll({ namePrefix: 'über s' })).items)).toEqual(['uber-systems']);
    expect(domains((await searchAll({ namePrefix: 'ÜBER SYS' })).items)).toEqual(['uber-systems']);
  });

  it("NFR-CAP-001: a '#' in the name is matched literally, never against the index's separator", async () => {
    expect(domains((await searchAll({ namePrefix: 'ab' })).items).sort()).toEqual(['ab-edge', 'hash-edge']);
    expect(domains((await searchAll({ namePrefix: 'ab#' })).items)).toEqual(['hash-edge']);
    expect(domains((await searchAll({ namePrefix: 'ab#hash co' })).items)).toEqual(['hash-edge']);
  });

  it('NFR-CAP-001: rows carry the full tenant view', async () => {
    const [row] = (await searchAll({ domainPrefix: 'alpha-01' })).items;
    const got = await api(h, 'GET', `/v1/tenants/${row!.id}`, { token: operator });
    expect(row).toEqual(got.body);
  });
});

describe('NFR-CAP-001: status and plan filters', () => {
  it('NFR-CAP-001: status alone, plan alone and both together are exact, oldest first', async () => {
    for (const status of ['Active', 'Suspended', 'PendingDeletion'] as const) {
      expect(ids((await searchAll({ status })).items)).toEqual(ids(tenants.filter((t) => t.status === status).sort(byAge)));
    }
    for (const plan of PLANS) {
      expect(ids((await searchAll({ plan })).items)).toEqual(ids(tenants.filter((t) => t.plan === plan).sort(byAge)));
      const expected = tenants.filter((t) => t.plan === plan && t.status === 'Suspended').sort(byAge);
      expect(ids((await searchAll({ plan, status: 'Suspended' })).items)).toEqual(ids(expected));
    }
    expect((await searchAll({ status: 'Suspended' })).items).toHaveLength(SUSPENDED.length);
  });

  it('NFR-CAP-001: a prefix combines with status, plan and the other prefix', async () => {
    const cases: { query: Record<string, string>; match: (t: Row) => boolean }[] = [
      { query: { domainPrefix: 'alpha', status: 'Suspended' }, match: (t) => t.domain.startsWith('alpha') && t.status === 'Suspended' },
      { query: { domainPrefix: 'gamma', plan: 'Pro' }, match: (t) => t.domain.startsWith('gamma') && t.plan === 'Pro' },
      { query: { domainPrefix: 'gamma', plan: 'Pro', status: 'Active' }, match: (t) => t.domain.startsWith('gamma') && t.plan === 'Pro' && t.status === 'Active' },
      { query: { namePrefix: 'beta team', status: 'Active', plan: 'Enterprise' }, match: (t) => t.name.startsWith('BETA') && t.status === 'Active' && t.plan === 'Enterprise' },
      { query: { domainPrefix: 'hash', namePrefix: 'AB#h' }, match: (t) => t.domain === 'hash-edge' },
      { query: { domainPrefix: 'alpha', namePrefix: 'alpha team 0' }, match: (t) => t.domain.startsWith('alpha') && t.name.startsWith('ALPHA Team 0') },
    ];
    for (const c of cases) {
      const expected = tenants.filter(c.match).sort(byDomain);
      expect(expected.length).toBeGreaterThan(0);
      expect(domains((await searchAll(c.query)).items).sort()).toEqual(domains(expected));
    }
  });

  it('ERR-VAL-400: unknown status or plan, a prefix no domain can start with, and a blank name prefix are refused', async () => {
    const res = await page({ status: 'Deleted', plan: 'Gold', domainPrefix: 'acme.example', namePrefix: '   ' });
    expect(res.status).toBe(400);
    expect((res.body['errors'] as { pointer: string }[]).map((e) => e.pointer).sort()).toEqual(['/domainPrefix', '/namePrefix', '/plan', '/status']);
  });
});

describe('NFR-CAP-001: cursor pagination of searches', () => {
  it('NFR-CAP-001: small pages cover every match exactly once, in the same order as one big page', async () => {
    const queries: Record<string, string>[] = [
      {},
      { domainPrefix: 'beta' },
      { namePrefix: 'gamma team' },
      { status: 'Active' },
      { plan: 'Free' },
      { status: 'Active', plan: 'Pro' },
      { domainPrefix: 'alpha', status: 'Active' },
    ];
    for (const query of queries) {
      const whole = await searchAll(query, 100);
      expect(whole.pages).toBe(1);
      for (const limit of [1, 3, 7]) {
        const paged = await searchAll(query, limit);
        expect(ids(paged.items)).toEqual(ids(whole.items));
        expect(paged.pages).toBeGreaterThanOrEqual(Math.ceil(whole.items.length / limit));
      }
    }
  });

  it('ERR-VAL-400: a forged cursor, or one issued for another search, is refused with pointer /cursor', async () => {
    const first = await page({ domainPrefix: 'alpha', limit: '2' });
    const domainCursor = first.nextCursor!;
    const statusCursor = (await page({ status: 'Active', limit: '2' })).nextCursor!;
    const plainCursor = (await page({ limit: '2' })).nextCursor!;
    const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');
    const lastId = first.items[1]!.id;
    const forged: Record<string, string>[] = [
      { domainPrefix: 'alpha', cursor: 'not base64 at all!' },
      { domainPrefix: 'beta', cursor: domainCursor }, // outside the prefix searched
      { namePrefix: 'alpha', cursor: domainCursor }, // another index
      { status: 'Suspended', cursor: statusCursor }, // another status partition
      { status: 'Active', cursor: plainCursor }, // the plain listing's cursor
      { cursor: statusCursor },
      { domainPrefix: 'alpha', cursor: b64(`APPS|alpha-09#${lastId}`) }, // aimed at another partition
      { domainPrefix: 'alpha', cursor: b64(`TENANTS#DOMAIN|alpha-09#TENANT#x`) },
      { namePrefix: 'beta', cursor: b64(`TENANTS#NAME|beta#team#${lastId}`) },
    ];
    for (const query of forged) {
      const res = await page(query);
      expect(res.status, JSON.stringify(query)).toBe(400);
      expect(res.body).toMatchObject({ code: 'ERR-VAL-400', errors: [{ location: 'query', pointer: '/cursor' }] });
    }
    // The genuine cursor carries on where the first page ended.
    const next = await page({ domainPrefix: 'alpha', limit: '2', cursor: domainCursor });
    expect(domains(next.items)).toEqual(['alpha-02', 'alpha-03']);
  });
});

describe('UC-TENANT-SUSPEND / FR-OPS-001: lifecycle changes show in search at once', () => {
  it('UC-TENANT-SUSPEND: a suspended tenant moves to the Suspended results in every index; restored, it moves back', async () => {
    const t = tenants.find((x) => x.domain === 'beta-05')!;
    const inSearch = async (query: Record<string, string>): Promise<Row | undefined> => (await searchAll(query)).items.find((x) => x.id === t.id);

    expect((await api(h, 'POST', `/v1/tenants/${t.id}/suspend`, { token: operator, body: { reason: 'chargeback' } })).status).toBe(200);
    expect(await inSearch({ status: 'Suspended' })).toBeDefined();
    expect(await inSearch({ status: 'Suspended', plan: t.plan })).toBeDefined();
    expect(await inSearch({ status: 'Active' })).toBeUndefined();
    expect(await inSearch({ status: 'Active', plan: t.plan })).toBeUndefined();
    expect(await inSearch({ domainPrefix: 'beta-05' })).toMatchObject({ status: 'Suspended', suspension: { reason: 'chargeback' } });
    expect(await inSearch({ namePrefix: t.name })).toMatchObject({ status: 'Suspended' });
    expect(await inSearch({ plan: t.plan })).toMatchObject({ status: 'Suspended' });

    expect((await api(h, 'POST', `/v1/tenants/${t.id}/restore`, { token: operator })).status).toBe(200);
    expect(await inSearch({ status: 'Suspended' })).toBeUndefined();
    expect(await inSearch({ status: 'Active', plan: t.plan })).toBeDefined();
    expect(await inSearch({ domainPrefix: 'beta-05' })).toMatchObject({ status: 'Active', suspension: null });
  });
});

describe('FR-OPS-002: deletion and purge remove a tenant from search', () => {
  it('FR-OPS-002: PendingDeletion is searchable; after the purge the tenant, its partition and its search entries are gone', async () => {
    const t = tenants.find((x) => x.domain === 'gamma-04')!;
    const del = await api(h, 'DELETE', `/v1/tenants/${t.id}?confirm=${t.domain}`, { token: operator });
    expect(del.status).toBe(202);
    setStatus(t.id, 'PendingDeletion');
    expect(ids((await searchAll({ status: 'PendingDeletion' })).items)).toEqual([t.id]);
    expect((await searchAll({ domainPrefix: 'gamma-04' })).items).toMatchObject([{ id: t.id, status: 'PendingDeletion' }]);

    const purgeAfter = Date.parse((del.body['deletion'] as { purgeAfter: string }).purgeAfter);
    const run = await purgeJob({ now: new Date(purgeAfter + 1000).toISOString() });
    expect(run.purged.map((p) => p.tenantId)).toEqual([t.id]);
    tenants.splice(tenants.indexOf(t), 1);

    const everySearch: Record<string, string>[] = [{}, { domainPrefix: 'gamma' }, { namePrefix: t.name }, { status: 'PendingDeletion' }, { plan: t.plan }, { status: 'PendingDeletion', plan: t.plan }];
    for (const query of everySearch) expect(ids((await searchAll(query)).items)).not.toContain(t.id);
    expect(await h.items(`TENANT#${t.id}`)).toEqual([]);
    // Straight at the index: no entry of the tenant is left in any GSI1 partition a search reads.
    const partitions = ['TENANTS', 'TENANTS#DOMAIN', 'TENANTS#NAME', ...['Active', 'Suspended', 'PendingDeletion'].flatMap((s) => [`TENANTS#STATUS#${s}`, ...PLANS.map((p) => `TENANTS#STATUS#${s}#PLAN#${p}`)]), ...PLANS.map((p) => `TENANTS#PLAN#${p}`)];
    for (const pk of partitions) {
      const out = await h.db.send(new QueryCommand({ TableName: h.cp.tableName, IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': pk } }));
      expect((out.Items ?? []).filter((i) => i['id'] === t.id), pk).toEqual([]);
    }
    // The remaining tenants are all still found.
    expect(ids((await searchAll({ domainPrefix: 'gamma' })).items).sort()).toEqual(ids(tenants.filter((x) => x.domain.startsWith('gamma'))).sort());
  });
});

describe('NFR-CAP-001: tenants written before search existed', () => {
  it('NFR-CAP-001: rebuildSearchIndex restores missing search entries, resumably by cursor, and leaves the rest as they were', async () => {
    const t = tenants.find((x) => x.domain === 'alpha-07')!;
    const entries = (await h.items(`TENANT#${t.id}`)).filter((i) => String(i['SK']).startsWith('TENANTIDX#'));
    expect(entries.map((i) => i['SK']).sort()).toEqual(['TENANTIDX#DOMAIN', 'TENANTIDX#NAME', 'TENANTIDX#PLAN', 'TENANTIDX#STATUS', 'TENANTIDX#STATUSPLAN']);
    const { DeleteCommand } = await import('@aws-sdk/lib-dynamodb');
    for (const e of entries) await h.db.send(new DeleteCommand({ TableName: h.cp.tableName, Key: { PK: e['PK'], SK: e['SK'] } }));
    expect(ids((await searchAll({ domainPrefix: 'alpha-07' })).items)).toEqual([]);

    const store = new DynamoTenantStore(h.db, h.cp.tableName);
    let cursor: string | undefined;
    let rebuilt = 0;
    let runs = 0;
    do {
      const r = await store.rebuildSearchIndex({ limit: 10, ...(cursor ? { cursor } : {}) });
      rebuilt += r.rebuilt;
      cursor = r.nextCursor ?? undefined;
      runs++;
    } while (cursor && runs < 20);
    expect(rebuilt).toBe(tenants.length);
    expect(runs).toBeGreaterThan(1);
    const after = (await h.items(`TENANT#${t.id}`)).filter((i) => String(i['SK']).startsWith('TENANTIDX#'));
    expect(after).toEqual(expect.arrayContaining(entries));
    expect(after).toHaveLength(entries.length);
    expect(ids((await searchAll({ domainPrefix: 'alpha-07' })).items)).toEqual([t.id]);
  });
});

describe('cpctl tenants search / suspend / restore / delete', () => {
  const cliDir = mkdtempSync(join(tmpdir(), 'cpctl-search-'));
  // Asynchronous on purpose: the server answering cpctl runs in this process.
  const run = promisify(execFile);
  async function cpctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const r = await run(process.execPath, ['bin/cpctl.js', ...args], { cwd: ROOT, env: { ...process.env, CPCTL_CONFIG_DIR: cliDir }, timeout: 60_000 });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

  beforeAll(async () => {
    const login = await cpctl('login', '--dev', '--api', h.cp.apiUrl, '--issuer', h.cp.issuer, '--json');
    if (login.code !== 0) throw new Error(login.stderr);
  }, 60_000);

  it('NFR-CAP-001: cpctl tenants search finds tenants by prefix, status and plan, following cursors with --all', async () => {
    const r = await cpctl('--json', 'tenants', 'search', '--domain-prefix', 'beta', '--plan', 'Pro', '--limit', '1', '--all');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { items: Row[]; nextCursor: string | null };
    expect(domains(out.items)).toEqual(domains(tenants.filter((t) => t.domain.startsWith('beta') && t.plan === 'Pro').sort(byDomain)));
    expect(out.nextCursor).toBeNull();
    const human = await cpctl('tenants', 'search', '--name-prefix', 'über');
    expect(human.stdout).toMatch(/^ID\s+DOMAIN\s+NAME\s+PLAN\s+STATUS\s+REGION\n\S+\s+uber-systems\s+Über {3}Systems\s+Enterprise\s+Active/);
    expect((await cpctl('tenants', 'search', '--domain-prefix', 'nothing-here')).stdout).toContain('(no matching tenants)');
    const bad = await cpctl('tenants', 'search', '--status', 'Gone');
    expect(bad.code).not.toBe(0);
  });

  it('UC-TENANT-SUSPEND: cpctl suspends with a reason and restores; FR-OPS-002: delete needs the domain and says when the purge comes', async () => {
    const t = tenants.find((x) => x.domain === 'alpha-08')!;
    const suspended = await cpctl('tenants', 'suspend', t.id, '--reason', 'fraud check');
    expect(suspended.stdout).toContain(`Tenant alpha-08 (${t.id}) is now Suspended: fraud check`);
    const found = JSON.parse((await cpctl('--json', 'tenants', 'search', '--status', 'Suspended', '--all')).stdout) as { items: Row[] };
    expect(ids(found.items)).toContain(t.id);
    expect((await cpctl('tenants', 'restore', t.id)).stdout).toContain('is now Active');

    const refused = await cpctl('tenants', 'delete', t.id, '--confirm', 'alpha-09');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ERR-VAL-422');
    const deleted = await cpctl('tenants', 'delete', t.id, '--confirm', 'alpha-08');
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toMatch(/is PendingDeletion; it will be purged after \d{4}-\d{2}-\d{2}T\S+ unless restored first/);
    const json = JSON.parse((await cpctl('--json', 'tenants', 'restore', t.id)).stdout) as { status: string; deletion: unknown };
    expect(json).toMatchObject({ status: 'Active', deletion: null });
  });
});
