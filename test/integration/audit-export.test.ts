/**
 * FR-LOG-002, UC-AUDIT-EXPORT (issue #6): the Auditor API through the real local control plane and
 * DynamoDB Local. A few thousand audit records are seeded straight into the table (toAuditItem +
 * BatchWrite, as the audit consumer stores them); the auditor searches and pages them, requests a CSV
 * export, the export queue's consumer runs it (local mode's queue, as SQS would; redeliveries are
 * simulated by calling the same module with a hand-built SQS event), and the signed download link on the
 * local server yields exactly the matching records. Only Auditors get in; the export is audited (the
 * records handed to the AuditLog port are asserted; the export items, object and links in their stores).
 */
import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { createHash, randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { handler as exportJob } from '../../functions/jobs/audit-export';
import { DynamoAuditExportStore } from '../../shared/adapters/dynamo/audit-export-store';
import { toAuditItem } from '../../shared/adapters/dynamo/codecs';
import { keys } from '../../shared/adapters/dynamo/keys';
import { DEV_ACCOUNTS, DEV_CLIENT_ID } from '../../shared/adapters/local/dev-idp';
import { localDeadLetters } from '../../shared/adapters/local/local-queue';
import { loginWithPassword } from '../../shared/cli/operator-login';
import { container } from '../../shared/composition';
import type { AuditRecord } from '../../shared/domain/audit';
import { AUDIT_CSV_COLUMNS, auditExportObjectKey, auditRecordFromCsvRow, newAuditExport } from '../../shared/domain/audit-export';
import { parseCsv } from '../../shared/domain/csv';
import { Browser } from '../support/browser';
import { api, startHarness, type Harness } from '../support/harness';
import { enableApp, OWNER_PASSWORD, registerApp, signIn, tenantWithOwner } from '../support/identity';

let h: Harness;
let auditor: string;
let otherAuditor: string;
let operator: string;
let developer: string;
let ownerToken: string;

const TENANT_A = randomUUID();
const TENANT_B = randomUUID();
const BASE = Date.UTC(2025, 5, 1);
const RANGE_FROM = new Date(BASE + 1000 * 60_000).toISOString();
const RANGE_TO = new Date(BASE + 2500 * 60_000).toISOString();
/** Every record seeded (tenant A, tenant B, platform-level). */
const seeded: AuditRecord[] = [];

const ACTORS = ['alice', 'bob', '=carol', 'dave, "the admin"'];
const ACTIONS = ['user.invite', 'user.delete', 'login', '@import'];

function record(tenantId: string | null, i: number, at: number): AuditRecord {
  return {
    id: randomUUID(),
    timestamp: new Date(at).toISOString(),
    tenantId,
    actorId: ACTORS[i % ACTORS.length]!,
    actorType: i % 5 === 0 ? 'Operator' : 'User',
    action: ACTIONS[(i >> 2) % ACTIONS.length]!,
    resource: i % 7 === 0 ? `user:${i}\r\nsecond line, with "quotes"` : `user:${i}`,
    outcome: i % 3 === 0 ? 'Failure' : 'Success',
    metadata: { ip: `198.51.100.${i % 256}`, userAgent: i % 4 === 0 ? null : 'Mozilla/5.0 (ü; 日本)', requestId: `req-${i}`, seq: i },
  };
}

async function seed(records: readonly AuditRecord[]): Promise<void> {
  for (let i = 0; i < records.length; i += 25) {
    let pending = records.slice(i, i + 25).map((r) => ({ PutRequest: { Item: toAuditItem(r) } }));
    while (pending.length > 0) {
      const out = await h.db.send(new BatchWriteCommand({ RequestItems: { [h.cp.tableName]: pending } }));
      pending = (out.UnprocessedItems?.[h.cp.tableName] ?? []) as typeof pending;
    }
  }
}

function matching(f: { tenantId: string | null; from: string; to: string; actorId?: string; action?: string; outcome?: string }): AuditRecord[] {
  return seeded
    .filter((r) => r.tenantId === f.tenantId && r.timestamp >= f.from && r.timestamp < f.to)
    .filter((r) => (f.actorId === undefined || r.actorId === f.actorId) && (f.action === undefined || r.action === f.action) && (f.outcome === undefined || r.outcome === f.outcome))
    .sort((a, b) => (a.timestamp === b.timestamp ? (a.id < b.id ? -1 : 1) : a.timestamp < b.timestamp ? -1 : 1));
}

function qs(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  return q.toString();
}

/** Follows nextCursor to the end, checking every page's size. */
async function searchAll(token: string, params: Record<string, string | number | undefined>, limit: number): Promise<{ items: AuditRecord[]; pages: number }> {
  const items: AuditRecord[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const res = await api(h, 'GET', `/v1/audit/events?${qs({ ...params, limit, cursor })}`, { token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const page = res.body['items'] as AuditRecord[];
    expect(page.length).toBeLessThanOrEqual(limit);
    items.push(...page);
    cursor = (res.body['nextCursor'] as string | null) ?? undefined;
    pages++;
    expect(pages).toBeLessThan(10_000);
  } while (cursor !== undefined);
  return { items, pages };
}

function sqsEvent(body: string, messageId = randomUUID()): SQSEvent {
  return {
    Records: [
      {
        messageId,
        receiptHandle: `rh-${messageId}`,
        body,
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'local', ApproximateFirstReceiveTimestamp: String(Date.now()) },
        messageAttributes: {},
        md5OfBody: createHash('md5').update(body).digest('hex'),
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:eu-central-1:000000000000:local-export',
        awsRegion: 'eu-central-1',
      },
    ],
  };
}

/**
 * Every audit record handed to the AuditLog port while the tests ran (the spy passes each on to the
 * pipeline unchanged). The port is the boundary this feature owns; storing what the port receives is the
 * audit consumer's job, tested with it.
 */
const audited: AuditRecord[] = [];

/** The audit records the tests caused for a tenant (or null: platform-level), once the queues are idle. */
async function auditTrail(tenantId: string | null): Promise<AuditRecord[]> {
  await h.settle();
  return audited.filter((r) => r.tenantId === tenantId);
}

async function exportItem(id: string): Promise<Record<string, unknown> | undefined> {
  const out = await h.db.send(new QueryCommand({ TableName: h.cp.tableName, KeyConditionExpression: 'PK = :pk AND SK = :sk', ExpressionAttributeValues: { ':pk': keys.auditExport(id).PK, ':sk': keys.auditExport(id).SK }, ConsistentRead: true }));
  return out.Items?.[0];
}

async function ownerAccessToken(): Promise<string> {
  const redirect = 'http://127.0.0.1:8979/callback';
  const app = await registerApp(h, { name: 'Audit Export App', clientType: 'confidential', redirectUris: [redirect] });
  const t = await tenantWithOwner(h, `audit-${randomUUID().slice(0, 8)}`, h.dataDir);
  await enableApp(h, t.tenantId, app.clientId);
  const c = await oidc.discovery(new URL(h.cp.apiUrl), app.clientId, app.clientSecret, oidc.ClientSecretBasic(app.clientSecret!), { execute: [oidc.allowInsecureRequests] });
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(c, { redirect_uri: redirect, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', tenant: t.domain });
  const r = await signIn(new Browser(), url.href, { email: t.ownerEmail, password: OWNER_PASSWORD });
  if (!r.callback) throw new Error(`owner sign-in failed: ${r.status}`);
  return (await oidc.authorizationCodeGrant(c, new URL(r.callback), { pkceCodeVerifier: verifier })).access_token;
}

beforeAll(async () => {
  h = await startHarness();
  const account = DEV_ACCOUNTS.find((a) => a.email === 'auditor@example.com')!;
  auditor = (await loginWithPassword({ issuer: h.cp.issuer, clientId: DEV_CLIENT_ID, audience: h.cp.audience, username: account.email, password: account.password })).accessToken;
  otherAuditor = await h.mintToken({ sub: 'second-auditor', groups: ['cp-auditors'], email: 'auditor2@example.com' });
  operator = await h.operatorToken();
  developer = await h.developerToken();
  ownerToken = await ownerAccessToken();

  // 3,000 records in tenant A over 3,000 minutes, some sharing a timestamp; 300 in B; 300 platform-level.
  const a = Array.from({ length: 3000 }, (_, i) => record(TENANT_A, i, BASE + Math.floor(i / 3) * 3 * 60_000 + (i % 3 === 2 ? 0 : (i % 3) * 60_000)));
  const b = Array.from({ length: 300 }, (_, i) => record(TENANT_B, i, BASE + i * 10 * 60_000));
  const p = Array.from({ length: 300 }, (_, i) => record(null, i, BASE + i * 10 * 60_000));
  // Records exactly on the range's bounds: the one at `from` is in, the one at `to` is out.
  const edges = [record(TENANT_A, 9001, Date.parse(RANGE_FROM)), record(TENANT_A, 9002, Date.parse(RANGE_TO))];
  seeded.push(...a, ...b, ...p, ...edges);
  await seed(seeded);

  const c = container();
  const write = c.audit.write.bind(c.audit);
  vi.spyOn(c.audit, 'write').mockImplementation(async (r: AuditRecord) => {
    audited.push(r);
    await write(r);
  });
}, 180_000);

afterAll(async () => {
  vi.restoreAllMocks();
  await h?.stop();
});

describe('Auditor search (FR-LOG-002)', () => {
  it('FR-LOG-002: an auditor pages through a tenant’s range oldest first, without gaps or repeats, [from, to) exactly', async () => {
    const want = matching({ tenantId: TENANT_A, from: RANGE_FROM, to: RANGE_TO });
    expect(want.length).toBeGreaterThan(1000);
    expect(want.some((r) => r.timestamp === RANGE_FROM)).toBe(true);
    const { items, pages } = await searchAll(auditor, { tenantId: TENANT_A, from: RANGE_FROM, to: RANGE_TO }, 250);
    expect(pages).toBe(Math.ceil(want.length / 250));
    expect(new Set(items.map((r) => r.id)).size).toBe(items.length);
    expect(items).toEqual(want);
    expect(items.some((r) => r.timestamp === RANGE_TO)).toBe(false);
  });

  it('CON-SEC-002: a search is audited once, on its first page, with its filter, under the tenant searched; its further pages are not', async () => {
    const count = () => audited.filter((r) => r.action === 'audit.search' && r.tenantId === TENANT_B).length;
    await h.settle();
    const before = count();
    const { pages } = await searchAll(auditor, { tenantId: TENANT_B, from: RANGE_FROM, to: RANGE_TO }, 50);
    expect(pages).toBeGreaterThan(1);
    const trail = (await auditTrail(TENANT_B)).filter((r) => r.action === 'audit.search');
    expect(trail).toHaveLength(before + 1);
    expect(trail.at(-1)).toMatchObject({ outcome: 'Success', resource: `audit:tenant:${TENANT_B}`, metadata: expect.objectContaining({ from: RANGE_FROM, to: RANGE_TO, returned: 50 }) });
    // A refused search is a denial, under the same action, in the platform partition.
    expect((await api(h, 'GET', `/v1/audit/events?${qs({ tenantId: TENANT_B, from: RANGE_FROM, to: RANGE_TO })}`, { token: operator })).status).toBe(403);
    expect((await auditTrail(null)).filter((r) => r.action === 'audit.search' && r.outcome === 'Failure').length).toBeGreaterThanOrEqual(1);
  });

  it('FR-LOG-002: the default page is 100 and the largest 1,000', async () => {
    const res = await api(h, 'GET', `/v1/audit/events?${qs({ tenantId: TENANT_A, from: RANGE_FROM, to: RANGE_TO })}`, { token: auditor });
    expect((res.body['items'] as unknown[]).length).toBe(100);
    const big = await api(h, 'GET', `/v1/audit/events?${qs({ tenantId: TENANT_A, from: RANGE_FROM, to: RANGE_TO, limit: 1000 })}`, { token: auditor });
    expect((big.body['items'] as unknown[]).length).toBe(1000);
    const tooBig = await api(h, 'GET', `/v1/audit/events?${qs({ tenantId: TENANT_A, from: RANGE_FROM, to: RANGE_TO, limit: 1001 })}`, { token: auditor });
    expect(tooBig.status).toBe(400);
  });

  it('FR-LOG-002: actor, action and outcome filters combine, and small pages over a sparse filter still miss nothing', async () => {
    const filters = [
      { actorId: '=carol' },
      { action: '@import', outcome: 'Failure' },
      { actorId: 'dave, "the admin"', action: 'user.delete', outcome: 'Success' },
      { outcome: 'Failure' },
    ];
    for (const f of filters) {
      const want = matching({ tenantId: TENANT_A, from: RANGE_FROM, to: RANGE_TO, ...f });
      expect(want.length, JSON.stringify(f)).toBeGreaterThan(0);
      const { items } = await searchAll(auditor, { tenantId: TENANT_A, from: RANGE_FROM, to: RANGE_TO, ...f }, 7);
      expect(items, JSON.stringify(f)).toEqual(want);
    }
  });

  it('FR-LOG-002: platform=true searches the platform’s own records; tenants stay apart', async () => {
    const from = new Date(BASE).toISOString();
    const to = new Date(BASE + 400 * 10 * 60_000).toISOString();
    const { items } = await searchAll(auditor, { platform: 'true', from, to }, 1000);
    expect(items).toEqual(matching({ tenantId: null, from, to }));
    expect(items).toHaveLength(300);
    const b = await searchAll(auditor, { tenantId: TENANT_B, from, to }, 1000);
    expect(b.items).toEqual(matching({ tenantId: TENANT_B, from, to }));
  });

  it('FR-LOG-002: bad filters and forged cursors are 400s naming the field', async () => {
    const bad: [Record<string, string>, string][] = [
      [{ tenantId: TENANT_A, platform: 'true', from: RANGE_FROM, to: RANGE_TO }, '/tenantId'],
      [{ from: RANGE_FROM, to: RANGE_TO }, '/tenantId'],
      [{ tenantId: TENANT_A, from: RANGE_TO, to: RANGE_FROM }, '/to'],
      [{ tenantId: TENANT_A, from: '2024-01-01T00:00:00Z', to: '2025-01-02T00:00:00Z' }, '/to'],
      [{ tenantId: 'not-a-uuid', from: RANGE_FROM, to: RANGE_TO }, '/tenantId'],
      [{ tenantId: TENANT_A, from: 'yesterday', to: RANGE_TO }, '/from'],
      [{ tenantId: TENANT_A, from: RANGE_FROM, to: RANGE_TO, outcome: 'Maybe' }, '/outcome'],
      [{ tenantId: TENANT_A, from: RANGE_FROM, to: RANGE_TO, sort: 'desc' }, '/sort'],
    ];
    for (const [params, pointer] of bad) {
      const res = await api(h, 'GET', `/v1/audit/events?${qs(params)}`, { token: auditor });
      expect(res.status, JSON.stringify(params)).toBe(400);
      expect((res.body['errors'] as { pointer: string }[]).map((e) => e.pointer), JSON.stringify(params)).toContain(pointer);
    }
    // A cursor from tenant B's search cannot steer tenant A's, and garbage is refused.
    const from = new Date(BASE).toISOString();
    const to = new Date(BASE + 400 * 10 * 60_000).toISOString();
    const bPage = await api(h, 'GET', `/v1/audit/events?${qs({ tenantId: TENANT_B, from, to, limit: 5 })}`, { token: auditor });
    const bCursor = String(bPage.body['nextCursor']);
    for (const cursor of [bCursor, 'garbage', Buffer.from('{"PK":"TENANT#x","SK":"USER#1"}').toString('base64url')]) {
      const res = await api(h, 'GET', `/v1/audit/events?${qs({ tenantId: TENANT_A, from, to, cursor })}`, { token: auditor });
      expect(res.status).toBe(400);
      expect(res.body['errors']).toEqual([expect.objectContaining({ pointer: '/cursor' })]);
    }
  });

  it('ACT-AUDIT, NFR-SEC-005: only Auditors search — operator, developer and tenant Owner get 403, no token 401', async () => {
    const path = `/v1/audit/events?${qs({ tenantId: TENANT_A, from: RANGE_FROM, to: RANGE_TO })}`;
    expect((await api(h, 'GET', path)).status).toBe(401);
    for (const [who, token] of [
      ['operator', operator],
      ['developer', developer],
      ['tenant owner', ownerToken],
    ] as const) {
      const res = await api(h, 'GET', path, { token });
      expect(res.status, who).toBe(403);
      expect(res.body['items'], who).toBeUndefined();
    }
    // A token that is not from the operator IdP at all.
    expect((await api(h, 'GET', path, { token: 'eyJhbGciOiJub25lIn0.e30.' })).status).toBe(401);
  });
});


describe('CSV export (UC-AUDIT-EXPORT)', () => {
  const filter = { tenantId: TENANT_A, from: RANGE_FROM, to: RANGE_TO, outcome: 'Failure' as const };
  const platformDay = { platform: true, from: new Date(BASE).toISOString(), to: new Date(BASE + 86_400_000).toISOString() };

  async function createExport(token: string, body: Record<string, unknown> = filter): Promise<{ id: string; status: number; location: string | null; body: Record<string, unknown> }> {
    const res = await api(h, 'POST', '/v1/audit/exports', { token, body });
    return { id: String(res.body['id']), status: res.status, location: res.headers.get('location'), body: res.body };
  }

  async function exportStatus(id: string, token = auditor): Promise<{ status: number; body: Record<string, unknown> }> {
    return api(h, 'GET', `/v1/audit/exports/${id}`, { token });
  }

  it('UC-AUDIT-EXPORT: request → queued job → signed link → the CSV holds exactly the matching records; request and export are audited', async () => {
    const created = await createExport(auditor);
    expect(created.status).toBe(202);
    expect(created.body).toEqual({ id: created.id, status: 'Pending' });
    expect(created.location).toBe(`/v1/audit/exports/${created.id}`);

    // The export item, as stored (the queue's consumer may already be at work on it).
    const item = await exportItem(created.id);
    expect(item).toMatchObject({ entity: 'AuditExport', requestedBy: expect.any(String), filter: { tenantId: TENANT_A, from: RANGE_FROM, to: RANGE_TO, outcome: 'Failure' } });
    expect(['Pending', 'Running', 'Completed']).toContain(item!['status']);
    const ttlDays = (Number(item!['ttl']) - Date.now() / 1000) / 86_400;
    expect(ttlDays).toBeGreaterThan(6.99);
    expect(ttlDays).toBeLessThanOrEqual(7);

    await h.settle();
    const got = await exportStatus(created.id);
    expect(got.status).toBe(200);
    const want = matching(filter);
    expect(got.body).toMatchObject({ id: created.id, status: 'Completed', rows: want.length, bytes: expect.any(Number), sha256: expect.stringMatching(/^[0-9a-f]{64}$/), url: expect.any(String) });
    expect(got.body['filter']).toEqual({ tenantId: TENANT_A, from: RANGE_FROM, to: RANGE_TO, outcome: 'Failure' });
    const urlExpiresAt = Date.parse(String(got.body['urlExpiresAt']));
    expect(urlExpiresAt - Date.now()).toBeGreaterThan(290_000);
    expect(urlExpiresAt - Date.now()).toBeLessThanOrEqual(300_000);

    // The link is served by the local server itself.
    const url = String(got.body['url']);
    expect(url.startsWith(`${h.cp.apiUrl}/_local/objects/`)).toBe(true);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toContain(`filename="audit-export-${created.id}.csv"`);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.length).toBe(got.body['bytes']);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(got.body['sha256']);
    const rows = parseCsv(bytes.toString('utf8'));
    expect(rows[0]).toEqual([...AUDIT_CSV_COLUMNS]);
    expect(rows.slice(1).map(auditRecordFromCsvRow)).toEqual(want);
    // Formula-like values reach the file neutralised.
    const text = bytes.toString('utf8');
    expect(text).toContain(",'=carol,");
    expect(text).not.toMatch(/(^|,)=carol/m);

    // Both audit records are filed under the tenant (its Owner may see who took its records).
    const trail = (await auditTrail(TENANT_A)).filter((r) => r.resource === `audit-export:${created.id}`);
    expect(trail.filter((r) => r.action === 'audit.export.request')).toEqual([expect.objectContaining({ outcome: 'Success', actorType: 'User', actorId: item!['requestedBy'] })]);
    expect(trail.filter((r) => r.action === 'audit.export')).toEqual([
      expect.objectContaining({
        outcome: 'Success',
        actorType: 'System',
        metadata: expect.objectContaining({ exportId: created.id, requestedBy: item!['requestedBy'], rows: want.length, sha256: got.body['sha256'], filter: { tenantId: TENANT_A, from: RANGE_FROM, to: RANGE_TO, outcome: 'Failure' } }),
      }),
    ]);
    expect(await exportItem(created.id)).toMatchObject({ status: 'Completed', audited: true, rows: want.length, attempts: 1 });
  });

  it('CON-SEC-002: every download link handed out is audited, without the link itself', async () => {
    const created = await createExport(auditor, { tenantId: TENANT_B, from: RANGE_FROM, to: RANGE_TO });
    const downloads = async () => (await auditTrail(TENANT_B)).filter((r) => r.action === 'audit.export.download' && r.resource === `audit-export:${created.id}`);
    expect(await downloads()).toEqual([]);
    expect((await exportStatus(created.id)).body['url']).toEqual(expect.any(String));
    expect((await exportStatus(created.id)).body['url']).toEqual(expect.any(String));
    const two = await downloads();
    expect(two).toHaveLength(2);
    for (const r of two) expect(r).toMatchObject({ outcome: 'Success', metadata: expect.objectContaining({ urlExpiresAt: expect.any(String) }) });
    // The link itself is a credential: it is not in the record.
    expect(JSON.stringify(two)).not.toContain('/_local/objects/');
  });

  it('UC-AUDIT-EXPORT: a redelivered message changes nothing and audits nothing twice', async () => {
    const created = await createExport(auditor, platformDay);
    await h.settle();
    const first = await exportStatus(created.id);
    expect(first.body).toMatchObject({ status: 'Completed', rows: matching({ tenantId: null, from: platformDay.from, to: platformDay.to }).length });
    const body = JSON.stringify({ kind: 'export', exportId: created.id });
    expect((await exportJob(sqsEvent(body))).batchItemFailures).toEqual([]);
    expect((await exportJob(sqsEvent(body))).batchItemFailures).toEqual([]);
    const second = await exportStatus(created.id);
    expect(second.body).toMatchObject({ status: 'Completed', rows: first.body['rows'], sha256: first.body['sha256'], completedAt: first.body['completedAt'] });
    expect(await exportItem(created.id)).toMatchObject({ attempts: 1 });
    const exported = (await auditTrail(null)).filter((r) => r.action === 'audit.export' && r.resource === `audit-export:${created.id}`);
    expect(exported).toHaveLength(1);
  });

  it('UC-AUDIT-EXPORT: failed runs mark the export Failed (no details shown), are audited, end in the DLQ, and a redrive completes it', async () => {
    const objects = container().ingest.objects.exports;
    const spy = vi.spyOn(objects, 'putStream').mockRejectedValue(new Error('disk on fire at /internal/path'));
    let created: Awaited<ReturnType<typeof createExport>>;
    try {
      created = await createExport(auditor, { tenantId: TENANT_B, from: platformDay.from, to: platformDay.to });
      await h.settle();
    } finally {
      spy.mockRestore();
    }
    const status = await exportStatus(created.id);
    expect(status.body).toMatchObject({ id: created.id, status: 'Failed' });
    expect(JSON.stringify(status.body)).not.toContain('disk on fire');
    expect(status.body['url']).toBeUndefined();
    expect(await exportItem(created.id)).toMatchObject({ status: 'Failed', attempts: 3, failureReason: expect.stringContaining('disk on fire') });
    const dead = localDeadLetters(h.dataDir, 'export').filter((m) => m.body.includes(created.id));
    expect(dead).toEqual([expect.objectContaining({ receiveCount: 3 })]);
    const failures = (await auditTrail(TENANT_B)).filter((r) => r.action === 'audit.export' && r.resource === `audit-export:${created.id}`);
    expect(failures.map((r) => r.outcome)).toEqual(['Failure', 'Failure', 'Failure']);

    // An operator redrives the dead letter: the same message, delivered again.
    expect((await exportJob(sqsEvent(dead[0]!.body))).batchItemFailures).toEqual([]);
    expect((await exportStatus(created.id)).body).toMatchObject({ status: 'Completed', rows: matching({ tenantId: TENANT_B, from: platformDay.from, to: platformDay.to }).length });
    expect(await exportItem(created.id)).toMatchObject({ attempts: 4, status: 'Completed' });
  });

  it('UC-AUDIT-EXPORT: a message that is not an export (or not JSON) is reported failed, for the DLQ; a vanished export is dropped', async () => {
    for (const body of ['not json', JSON.stringify({ kind: 'export' }), JSON.stringify({ kind: 'audit', records: [] })]) {
      const messageId = randomUUID();
      expect((await exportJob(sqsEvent(body, messageId))).batchItemFailures).toEqual([{ itemIdentifier: messageId }]);
    }
    // The item expired (TTL) before the message came: nothing to retry.
    expect((await exportJob(sqsEvent(JSON.stringify({ kind: 'export', exportId: randomUUID() })))).batchItemFailures).toEqual([]);
  });

  it('UC-AUDIT-EXPORT: only the requesting auditor sees an export; others get 404, non-auditors 403/401', async () => {
    const created = await createExport(auditor);
    await h.settle();
    expect((await exportStatus(created.id)).status).toBe(200);
    expect((await exportStatus(created.id, otherAuditor)).status).toBe(404);
    expect((await exportStatus(randomUUID())).status).toBe(404);
    expect((await exportStatus(created.id, operator)).status).toBe(403);
    expect((await api(h, 'GET', `/v1/audit/exports/${created.id}`)).status).toBe(401);
    expect((await exportStatus('not-a-uuid')).status).toBe(400);

    for (const [who, token, status] of [
      ['nobody', undefined, 401],
      ['operator', operator, 403],
      ['developer', developer, 403],
      ['tenant owner', ownerToken, 403],
    ] as const) {
      const res = await api(h, 'POST', '/v1/audit/exports', { ...(token ? { token } : {}), body: filter });
      expect(res.status, who).toBe(status);
    }
    // Denials are audited (FR-LOG-003), platform-level, under the route's action.
    const denials = (await auditTrail(null)).filter((r) => r.action === 'audit.export.request' && r.outcome === 'Failure');
    expect(denials.map((r) => r.metadata['code']).sort()).toEqual(expect.arrayContaining(['ERR-AUTH-401', 'ERR-AUTH-403', 'ERR-AUTH-403', 'ERR-AUTH-403']));
    const invalid = await api(h, 'POST', '/v1/audit/exports', { token: auditor, body: { ...filter, platform: true } });
    expect(invalid.status).toBe(400);
  });

  it('UC-AUDIT-EXPORT: an export not yet done shows its status and no link; an expired one is gone', async () => {
    const me = (await exportItem((await createExport(auditor, platformDay)).id))!['requestedBy'] as string;
    const store = new DynamoAuditExportStore(h.db, h.cp.tableName);
    // Items written as the request handler writes them, but never queued: they stay as they are.
    const pending = newAuditExport({ id: randomUUID(), filter: { tenantId: null, from: platformDay.from, to: platformDay.to }, requestedBy: me, now: new Date(), retentionDays: 7 });
    await store.create(pending);
    const res = await exportStatus(pending.id);
    expect(res.body).toMatchObject({ id: pending.id, status: 'Pending', filter: { platform: true, from: platformDay.from, to: platformDay.to } });
    expect(res.body['url']).toBeUndefined();
    const expired = newAuditExport({ id: randomUUID(), filter: pending.filter, requestedBy: me, now: new Date(Date.now() - 8 * 86_400_000), retentionDays: 7 });
    await store.create(expired);
    expect((await exportStatus(expired.id)).status).toBe(404);
  });

  it('CON-SEC-009: a tampered or expired download link is a 403', async () => {
    const created = await createExport(auditor, { platform: true, from: new Date(BASE).toISOString(), to: new Date(BASE + 3_600_000).toISOString() });
    await h.settle();
    const got = await exportStatus(created.id);
    const link = new URL(String(got.body['url']));
    expect((await fetch(link)).status).toBe(200);

    const tampered: ((u: URL) => void)[] = [
      (u) => u.searchParams.set('expires', String(Number(u.searchParams.get('expires')) + 86_400)),
      (u) => {
        const sig = u.searchParams.get('signature')!;
        u.searchParams.set('signature', `${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`);
      },
      (u) => (u.pathname = u.pathname.replace(created.id, randomUUID())),
      (u) => u.searchParams.set('filename', 'x.html'),
    ];
    for (const change of tampered) {
      const u = new URL(link);
      change(u);
      expect((await fetch(u)).status, u.href).toBe(403);
    }
    // A link whose time has passed: the same store, one second.
    const short = await container().ingest.objects.exports.presignGet(auditExportObjectKey(created.id), 1, 'x.csv');
    await new Promise((r) => setTimeout(r, 2100));
    expect((await fetch(short)).status).toBe(403);
  });
});
