/**
 * Issue #6 acceptance for billing and audit ingestion (FR-BILL-001/002/003, FR-LOG-001, API-BILL, API-LOG)
 * through the local control plane: the HTTP APIs, the local queue (file spool, partial batch responses,
 * DLQ) and the real consumers against DynamoDB Local.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoIngestStore } from '../../shared/adapters/dynamo/ingest-store';
import { localDeadLetters, localQueue, localQueuesIdle, registerLocalConsumer } from '../../shared/adapters/local/local-queue';
import type { BillingEvent, QueueMessage } from '../../shared/domain/ingest-ports';
import { handler as auditConsumer } from '../../functions/ingest/audit-consumer';
import { handler as billingConsumer } from '../../functions/ingest/billing-consumer';
import { handler as purgeJob } from '../../functions/jobs/purge-tenants';
import { handler as retentionJob } from '../../functions/jobs/retention';
import { RETENTION } from '../../shared/config/constants';
import { api, ROOT, startHarness, type Harness } from '../support/harness';
import { enableApp, registerApp } from '../support/identity';

let h: Harness;
let tenantId: string;
let otherTenantId: string;
let appId: string;
let writer: string;
let reader: string;
let flagOnly: string;
type Item = Record<string, unknown>;

async function provision(domain: string): Promise<string> {
  const r = await api(h, 'POST', '/v1/tenants', { token: await h.operatorToken(), body: { name: `${domain} Inc`, domain, plan: 'Pro', ownerEmail: `owner@${domain}.example` } });
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  return (r.body['tenant'] as { id: string }).id;
}

async function key(scopes: string[]): Promise<string> {
  const r = await api(h, 'POST', `/v1/apps/${appId}/keys`, { token: await h.developerToken(), body: { name: scopes.join(' '), scopes } });
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  return String(r.body['key']);
}

const post = (path: string, k: string | undefined, body: unknown): ReturnType<typeof api> => api(h, 'POST', path, { body, ...(k ? { headers: { authorization: `Bearer ${k}` } } : {}) });
const get = (path: string, k: string): ReturnType<typeof api> => api(h, 'GET', path, { headers: { authorization: `Bearer ${k}` } });

function billing(overrides: Partial<Record<string, unknown>> = {}): Record<string, unknown> {
  return { id: `evt-${randomUUID()}`, tenantId, timestamp: new Date(Date.now() - 60_000).toISOString(), type: 'api.call', quantity: 1, ...overrides };
}

async function billingItems(tid = tenantId): Promise<Item[]> {
  return (await h.items(`TENANT#${tid}`)).filter((i) => i['entity'] === 'BillingEvent');
}

function sqsEvent(messages: readonly { id: string; body: QueueMessage | string }[]): SQSEvent {
  return {
    Records: messages.map((m) => ({
      messageId: m.id,
      receiptHandle: m.id,
      body: typeof m.body === 'string' ? m.body : JSON.stringify(m.body),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'test', ApproximateFirstReceiveTimestamp: String(Date.now()) },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:local:000000000000:test',
      awsRegion: 'local',
    })),
  };
}

function storedEvent(overrides: Partial<BillingEvent> = {}): BillingEvent {
  const now = new Date().toISOString();
  return { id: `evt-${randomUUID()}`, appId, tenantId, timestamp: now, type: 'api.call', quantity: 1, metadata: {}, receivedAt: now, keyId: 'testkey', ...overrides };
}

beforeAll(async () => {
  h = await startHarness();
  const app = await registerApp(h, { name: 'Metered App', clientType: 'confidential', redirectUris: ['http://127.0.0.1:8999/cb'] });
  appId = app.clientId;
  tenantId = await provision('metered');
  otherTenantId = await provision('unmetered');
  await enableApp(h, tenantId, appId);
  writer = await key(['bill:write', 'log:write']);
  reader = await key(['bill:read']);
  flagOnly = await key(['flag:read']);
});
afterAll(async () => {
  await h?.stop();
});

describe('billing ingestion (FR-BILL-001/002, API-BILL)', () => {
  it('FR-BILL-002: a batch keeps its good events and names each bad one by index; only the good ones are stored', async () => {
    const good = [billing({ quantity: 3, metadata: { region: 'eu' } }), billing({ type: 'storage.gb_hour', quantity: 0.5 })];
    const bad = [
      billing({ quantity: -1 }),
      billing({ timestamp: new Date(Date.now() - 40 * 86_400_000).toISOString() }),
      billing({ timestamp: new Date(Date.now() + 3_600_000).toISOString() }),
      billing({ tenantId: otherTenantId }),
      billing({ surprise: true }),
      { ...billing(), id: 'has spaces' },
    ];
    const r = await post('/v1/billing/events', writer, { events: [good[0], ...bad, good[1]] });
    expect(r.status).toBe(202);
    expect(r.body['accepted']).toBe(2);
    const rejected = r.body['rejected'] as { index: number; code: string; errors: { field: string }[] }[];
    expect(rejected.map((x) => [x.index, x.code])).toEqual([
      [1, 'ERR-VAL-400'],
      [2, 'ERR-VAL-422'],
      [3, 'ERR-VAL-422'],
      [4, 'ERR-AUTH-403'],
      [5, 'ERR-VAL-400'],
      [6, 'ERR-VAL-400'],
    ]);
    expect(rejected[0]!.errors[0]!.field).toBe('quantity');
    const stored = await billingItems();
    const ids = stored.map((i) => i['id']);
    expect(ids).toEqual(expect.arrayContaining(good.map((g) => g['id'])));
    for (const b of bad) expect(ids).not.toContain(b['id']);
    expect(stored.find((i) => i['id'] === good[0]!['id'])).toMatchObject({ tenantId, appId, type: 'api.call', quantity: 3, metadata: { region: 'eu' } });
    expect(await billingItems(otherTenantId)).toEqual([]);
  });

  it('FR-BILL-002: a request with no acceptable event is 400 with every problem, stores nothing, and is audited', async () => {
    const before = (await billingItems()).length;
    const r = await post('/v1/billing/events', writer, { events: [billing({ quantity: 'many' }), billing({ tenantId: 'not-a-uuid' })] });
    expect(r.status).toBe(400);
    expect(r.body['code']).toBe('ERR-VAL-400');
    expect((r.body['errors'] as { pointer: string }[]).map((e) => e.pointer)).toEqual(['/events/0/quantity', '/events/1/tenantId']);
    expect((await billingItems()).length).toBe(before);
    const failures = (await h.items('PLATFORM#AUDIT')).filter((a) => a['action'] === 'billing.ingest' && a['outcome'] === 'Failure');
    expect(failures.length).toBeGreaterThan(0);
  });

  it('FR-BILL-002, CON-SEC-009: no key → 401, a key without bill:write → 403, both audited; a batch over 500 → 400', async () => {
    expect((await post('/v1/billing/events', undefined, billing())).status).toBe(401);
    const denied = await post('/v1/billing/events', flagOnly, billing());
    expect(denied.status).toBe(403);
    expect(denied.body['code']).toBe('ERR-AUTH-403');
    const denials = (await h.items('PLATFORM#AUDIT')).filter((a) => (a['metadata'] as Item)['denied'] === true && String(a['resource']).includes('billing'));
    expect(denials.length).toBeGreaterThanOrEqual(1);
    const tooMany = await post('/v1/billing/events', writer, { events: Array.from({ length: 501 }, () => billing()) });
    expect(tooMany.status).toBe(400);
  });

  it('FR-BILL-001: the same idempotency key reported twice (a client retry) is stored once and counted once in the sums', async () => {
    const e = billing({ type: 'retry.test', quantity: 7 });
    expect((await post('/v1/billing/events', writer, e)).status).toBe(202);
    expect((await post('/v1/billing/events', writer, { events: [e] })).status).toBe(202);
    // Reusing the key with another quantity is not a second event either.
    expect((await post('/v1/billing/events', writer, { ...e, quantity: 9 })).status).toBe(202);
    const mine = (await billingItems()).filter((i) => i['id'] === e['id']);
    expect(mine).toHaveLength(1);
    expect(mine[0]!['quantity']).toBe(7);
    const day = String(e['timestamp']).slice(0, 10);
    const sum = (await h.items(`TENANT#${tenantId}`)).find((i) => i['SK'] === `BILLSUM#${day}#retry.test`);
    expect(sum).toMatchObject({ quantity: 7, eventCount: 1 });
  });
});

describe('billing store: events written in chunks (FR-BILL-001)', () => {
  it('FR-BILL-001: 120 events of one day sum in one call: each stored once, a repeated id in the batch and a stored one are duplicates, a reused id is a conflict, and the day sum is the exact decimal total', async () => {
    const store = new DynamoIngestStore(h.db, h.cp.tableName);
    const tid = await provision(`chunks-${randomUUID().slice(0, 6)}`);
    const ts = (i: number): string => new Date(Date.parse('2026-02-03T00:00:00.000Z') + i * 1000).toISOString();
    const earlier = storedEvent({ tenantId: tid, timestamp: ts(0), type: 'gb', quantity: 0.1 });
    expect(await store.putBillingEvents([earlier], new Date())).toEqual(['stored']);
    const fresh = Array.from({ length: 120 }, (_, i) => storedEvent({ tenantId: tid, timestamp: ts(i + 1), type: 'gb', quantity: i % 2 ? 0.1 : 0.2 }));
    const batch = [
      ...fresh.slice(0, 60),
      earlier, // a redelivery of a stored event
      fresh[10]!, // the same event twice in one batch
      { ...fresh[20]!, quantity: 99 }, // the same id, different content: refused, the stored one stays
      ...fresh.slice(60),
    ];
    const outcomes = await store.putBillingEvents(batch, new Date());
    expect(outcomes.filter((o) => o === 'stored')).toHaveLength(120);
    expect(outcomes[60]).toBe('duplicate');
    expect(outcomes[61]).toBe('duplicate');
    expect(outcomes[62]).toBe('conflict');
    const stored = (await billingItems(tid)).filter((i) => i['type'] === 'gb');
    expect(stored).toHaveLength(121);
    expect(stored.find((i) => i['id'] === fresh[20]!.id)?.['quantity']).toBe(fresh[20]!.quantity);
    const sum = (await h.items(`TENANT#${tid}`)).find((i) => i['entity'] === 'BillingDaySum' && i['type'] === 'gb');
    // 0.1 + 60 × 0.1 + 60 × 0.2 = 18.1 exactly (as binary floats the same additions give 18.099999999999977).
    expect(sum).toMatchObject({ quantity: 18.1, eventCount: 121 });
  });
});

describe('consumer faults (issue #6 acceptance)', () => {
  it('FR-BILL-001, FR-LOG-001: the same message delivered twice → one record', async () => {
    const event = storedEvent({ type: 'dup.test', quantity: 2 });
    const record = { id: randomUUID(), timestamp: new Date().toISOString(), tenantId, actorId: 'u1', actorType: 'User' as const, action: 'doc.read', resource: 'doc:1', outcome: 'Success' as const, metadata: { ip: '192.0.2.1' } };
    const billingMsg = sqsEvent([{ id: 'm1', body: { kind: 'billing', events: [event] } }]);
    const auditMsg = sqsEvent([{ id: 'm2', body: { kind: 'audit', records: [record] } }]);
    expect(await billingConsumer(billingMsg)).toEqual({ batchItemFailures: [] });
    expect(await billingConsumer(billingMsg)).toEqual({ batchItemFailures: [] });
    expect(await auditConsumer(auditMsg)).toEqual({ batchItemFailures: [] });
    expect(await auditConsumer(auditMsg)).toEqual({ batchItemFailures: [] });
    expect((await billingItems()).filter((i) => i['id'] === event.id)).toHaveLength(1);
    expect((await h.items(`TENANT#${tenantId}`)).filter((i) => i['entity'] === 'Audit' && i['id'] === record.id)).toHaveLength(1);
    const sum = (await h.items(`TENANT#${tenantId}`)).find((i) => i['SK'] === `BILLSUM#${event.timestamp.slice(0, 10)}#dup.test`);
    expect(sum).toMatchObject({ quantity: 2, eventCount: 1 });
  });

  it('FR-BILL-001: a batch with one poisoned message → the others stored, the poison reported and, after maxReceiveCount, in the DLQ', async () => {
    const a = storedEvent({ type: 'poison.test' });
    const b = storedEvent({ type: 'poison.test' });
    // Directly: the consumer reports exactly the poison as failed.
    const res = await billingConsumer(sqsEvent([{ id: 'ok-1', body: { kind: 'billing', events: [a] } }, { id: 'bad', body: '{"kind":"billing","events":[{"id":"x"}]}' }, { id: 'ok-2', body: { kind: 'billing', events: [b] } }]));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
    expect((await billingItems()).filter((i) => i['type'] === 'poison.test').map((i) => i['id']).sort()).toEqual([a.id, b.id].sort());

    // Through the queue: the poison is redelivered until maxReceiveCount, then dead-lettered.
    const c = storedEvent({ type: 'poison.queue' });
    const q = localQueue(h.dataDir, 'billing');
    await q.send([{ kind: 'billing', events: [c] }, { kind: 'billing', events: [{ nonsense: true }] } as unknown as QueueMessage]);
    await h.settle();
    expect((await billingItems()).filter((i) => i['type'] === 'poison.queue').map((i) => i['id'])).toEqual([c.id]);
    const dead = localDeadLetters(h.dataDir, 'billing');
    expect(dead).toHaveLength(1);
    expect(dead[0]!.body).toContain('nonsense');
    expect(dead[0]!.receiveCount).toBe(5);
  }, 30_000);

  it('FR-BILL-001: a consumer killed after writing and before acknowledging → the message is redelivered and nothing is doubled', async () => {
    // A second spool that only the child process consumes at first.
    const spool = mkdtempSync(join(tmpdir(), 'cp-crash-'));
    const e1 = storedEvent({ type: 'crash.test', quantity: 5 });
    const e2 = storedEvent({ type: 'crash.test', quantity: 6 });
    await localQueue(spool, 'billing').send([{ kind: 'billing', events: [e1, e2] }]);
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/crash-consumer.ts')], {
      cwd: ROOT,
      env: { ...process.env, CRASH_SPOOL: spool },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    expect(out).toContain('stored, dying before the acknowledgement');
    expect(exit.signal).toBe('SIGKILL');
    expect((await billingItems()).filter((i) => i['type'] === 'crash.test')).toHaveLength(2);

    // The next consumer (this process) gets the unacknowledged message again.
    registerLocalConsumer(spool, 'billing', billingConsumer, { batchSize: 10, maxReceiveCount: 5 });
    await localQueuesIdle(spool);
    registerLocalConsumer(spool, 'billing', undefined, { batchSize: 10, maxReceiveCount: 5 });
    const crash = (await billingItems()).filter((i) => i['type'] === 'crash.test');
    expect(crash.map((i) => i['id']).sort()).toEqual([e1.id, e2.id].sort());
    const sum = (await h.items(`TENANT#${tenantId}`)).find((i) => i['SK'] === `BILLSUM#${e1.timestamp.slice(0, 10)}#crash.test`);
    expect(sum).toMatchObject({ quantity: 11, eventCount: 2 });
    expect(localDeadLetters(spool, 'billing')).toEqual([]);
  }, 60_000);
});

describe('records in flight when a tenant is purged (FR-OPS-002)', () => {
  it('FR-OPS-002: billing events and app audit events of a purged tenant are dropped, the control plane\'s own records go to the platform log, and the partition and archive stay empty', async () => {
    const domain = `gone-${randomUUID().slice(0, 6)}`;
    const gone = await provision(domain);
    const operator = await h.operatorToken();
    expect((await api(h, 'DELETE', `/v1/tenants/${gone}?confirm=${domain}`, { token: operator })).status).toBe(202);
    await h.settle();
    const purged = await purgeJob({ now: new Date(Date.now() + 40 * 86_400_000).toISOString() });
    expect(purged.purged.map((p) => p.tenantId)).toContain(gone);
    expect(await h.items(`TENANT#${gone}`)).toEqual([]);

    // Accepted before the purge, delivered after it.
    const late = storedEvent({ tenantId: gone, type: 'late.after.purge' });
    const kept = storedEvent({ type: 'late.after.purge' }); // another tenant's, in the same batch
    const now = new Date().toISOString();
    const appRecord = { id: randomUUID(), timestamp: now, tenantId: gone, actorId: 'u1', actorType: 'User' as const, action: 'doc.read', resource: 'doc:1', outcome: 'Success' as const, metadata: { source: `app:${appId}` } };
    const ownRecord = { id: randomUUID(), timestamp: now, tenantId: gone, actorId: 'op-1', actorType: 'Operator' as const, action: 'tenant.get', resource: `tenant:${gone}`, outcome: 'Failure' as const, metadata: { code: 'ERR-RES-410' } };
    const billing = await billingConsumer(sqsEvent([{ id: 'p1', body: { kind: 'billing', events: [late, kept] } }]));
    expect(billing.batchItemFailures).toEqual([]);
    const audit = await auditConsumer(sqsEvent([{ id: 'p2', body: { kind: 'audit', records: [appRecord, ownRecord] } }]));
    expect(audit.batchItemFailures).toEqual([]);

    expect(await h.items(`TENANT#${gone}`)).toEqual([]);
    expect((await billingItems()).map((i) => i['id'])).toContain(kept.id);
    const platform = await h.items('PLATFORM#AUDIT');
    expect(platform.find((i) => i['id'] === appRecord.id)).toBeUndefined();
    expect(platform.find((i) => i['id'] === ownRecord.id)).toMatchObject({ action: 'tenant.get', outcome: 'Failure', metadata: { code: 'ERR-RES-410', purgedTenantId: gone } });
    for (const kind of ['audit-archive/audit', 'billing-archive/billing']) expect(existsSync(join(h.dataDir, 'objects', kind, `tenant=${gone}`))).toBe(false);
  });
});

describe('billing export (FR-BILL-003, UC-SYS-BILL-EXPORT)', () => {
  const from = '2026-01-01T00:00:00.000Z';
  const to = '2026-01-03T00:00:00.000Z';
  let exportTenant: string;
  const at = (i: number, n: number): string => new Date(Date.parse(from) + Math.floor(((Date.parse(to) - Date.parse(from)) * i) / n)).toISOString();

  beforeAll(async () => {
    exportTenant = await provision('exported');
    await enableApp(h, exportTenant, appId);
  });

  async function traverse(query: string, limit: number, during?: (page: number) => Promise<void>): Promise<{ ids: string[]; asOf: string; pages: Item[][] }> {
    const ids: string[] = [];
    const pages: Item[][] = [];
    let cursor: string | null = null;
    let asOf = '';
    let n = 0;
    do {
      const r = await get(`/v1/billing/events?tenantId=${exportTenant}&from=${from}&to=${to}&limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`, reader);
      expect(r.status).toBe(200);
      const items = r.body['items'] as Item[];
      pages.push(items);
      ids.push(...items.map((i) => String(i['id'])));
      asOf = String(r.body['asOf']);
      cursor = r.body['nextCursor'] as string | null;
      if (during) await during(n++);
    } while (cursor);
    return { ids, asOf, pages };
  }

  it('FR-BILL-003: pages neither skip nor repeat an event while new ones arrive (late events included); the next export with storedAfter returns exactly the new ones', async () => {
    const store = new DynamoIngestStore(h.db, h.cp.tableName);
    const initial = Array.from({ length: 240 }, (_, i) => storedEvent({ tenantId: exportTenant, timestamp: at(i, 240), type: i % 2 ? 'api.call' : 'seat' }));
    await store.putBillingEvents(initial, new Date());
    await new Promise((r) => setTimeout(r, 1_100)); // past the snapshot margin

    // While paging, new events arrive all over the period: before the cursor, after it, on its page.
    const arriving: BillingEvent[] = [];
    const first = await traverse('', 25, async (page) => {
      const batch = Array.from({ length: 12 }, (_, i) => storedEvent({ tenantId: exportTenant, timestamp: at((page * 37 + i * 19) % 240, 240), type: 'late' }));
      arriving.push(...batch);
      await store.putBillingEvents(batch, new Date());
    });
    expect(first.ids).toHaveLength(initial.length);
    expect(new Set(first.ids).size).toBe(first.ids.length);
    expect([...first.ids].sort()).toEqual(initial.map((e) => e.id).sort());
    // Stable order: by timestamp (then application and key).
    const flat = first.pages.flat();
    for (let i = 1; i < flat.length; i++) expect(String(flat[i - 1]!['timestamp']) <= String(flat[i]!['timestamp'])).toBe(true);

    await new Promise((r) => setTimeout(r, 1_100));
    const next = await traverse(`&storedAfter=${first.asOf}`, 50);
    expect([...next.ids].sort()).toEqual(arriving.map((e) => e.id).sort());
  }, 60_000);

  it('FR-BILL-003: per-type sums of a period that does not start or end on a day boundary equal the sums of its events', async () => {
    const f = '2026-01-01T06:00:00.000Z';
    const t = '2026-01-02T18:00:00.000Z';
    const all = (await billingItems(exportTenant)).filter((i) => String(i['timestamp']) >= f && String(i['timestamp']) < t);
    const expected: Record<string, { quantity: number; count: number }> = {};
    for (const e of all) {
      const s = (expected[String(e['type'])] ??= { quantity: 0, count: 0 });
      s.quantity += Number(e['quantity']);
      s.count += 1;
    }
    const r = await get(`/v1/billing/summary?tenantId=${exportTenant}&from=${f}&to=${t}`, reader);
    expect(r.status).toBe(200);
    expect(r.body['sums']).toEqual(expected);
  });

  it('FR-BILL-003, tenant isolation: another tenant, a bad cursor or a key without bill:read are refused', async () => {
    expect((await get(`/v1/billing/events?tenantId=${otherTenantId}&from=${from}&to=${to}`, reader)).status).toBe(403);
    expect((await get(`/v1/billing/summary?tenantId=${otherTenantId}&from=${from}&to=${to}`, reader)).status).toBe(403);
    expect((await get(`/v1/billing/events?tenantId=${exportTenant}&from=${from}&to=${to}`, writer)).status).toBe(403);
    expect((await get(`/v1/billing/events?tenantId=${exportTenant}&from=${to}&to=${from}`, reader)).status).toBe(400);
    const first = await get(`/v1/billing/events?tenantId=${exportTenant}&from=${from}&to=${to}&limit=5`, reader);
    const cursor = String(first.body['nextCursor']);
    // A cursor is bound to its query: it cannot be replayed for another tenant's period.
    expect((await get(`/v1/billing/events?tenantId=${exportTenant}&from=${from}&to=2026-01-02T00:00:00.000Z&cursor=${cursor}`, reader)).status).toBe(400);
  });
});

describe('audit ingestion (FR-LOG-001, API-LOG)', () => {
  it('FR-LOG-001: application events become audit records of the tenant with their source; a retried batch with ids is stored once', async () => {
    const ev = { id: 'login-42', tenantId, timestamp: new Date(Date.now() - 1000).toISOString(), actorId: 'user-7', eventType: 'user.login', resourceId: 'session:9', outcome: 'Success', ipAddress: '198.51.100.4', metadata: { method: 'password' } };
    const r = await post('/v1/audit/events', writer, { events: [ev, { ...ev, id: 'login-43', ipAddress: 'not-an-ip' }] });
    expect(r.status).toBe(202);
    expect(r.body['accepted']).toBe(1);
    expect(r.body['ids']).toEqual([`${appId}:login-42`]);
    expect((await post('/v1/audit/events', writer, ev)).status).toBe(202);
    const records = (await h.items(`TENANT#${tenantId}`)).filter((i) => i['entity'] === 'Audit' && i['id'] === `${appId}:login-42`);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ actorId: 'user-7', actorType: 'User', action: 'user.login', resource: 'session:9', outcome: 'Success', metadata: { ip: '198.51.100.4', method: 'password', source: `app:${appId}` } });
    expect(typeof records[0]!['ttl']).toBe('number');
    // Not for a tenant the app does not serve, nor without log:write.
    expect((await post('/v1/audit/events', writer, { ...ev, id: 'x', tenantId: otherTenantId })).status).toBe(400);
    expect((await post('/v1/audit/events', reader, ev)).status).toBe(403);
  });

  it('FR-LOG-003: the control plane\'s own records flow through the same queue and archive (partitioned by tenant and date)', async () => {
    await h.settle();
    const archive = join(h.dataDir, 'objects', 'audit-archive', 'audit', `tenant=${tenantId}`);
    const { readdirSync } = await import('node:fs');
    const dates = readdirSync(archive);
    expect(dates.length).toBeGreaterThan(0);
    expect(dates[0]).toMatch(/^date=\d{4}-\d{2}-\d{2}$/);
  });
});

describe('retention (FR-OPS-003, CON-DATA-002/003)', () => {
  it('FR-OPS-003: audit records go after 7 years and billing events after 5 — not a day earlier — and the deletion is itself audited', async () => {
    const tid = await provision('retained');
    const store = new DynamoIngestStore(h.db, h.cp.tableName);
    const now = Date.now();
    const day = 86_400_000;
    const audit = (id: string, ageDays: number): Parameters<DynamoIngestStore['putAuditRecords']>[0][number] => ({
      id,
      timestamp: new Date(now - ageDays * day).toISOString(),
      tenantId: tid,
      actorId: 'u',
      actorType: 'User',
      action: 'doc.read',
      resource: 'doc:1',
      outcome: 'Success',
      metadata: {},
    });
    await store.putAuditRecords([audit('old-audit', RETENTION.auditDays + 1), audit('young-audit', RETENTION.auditDays - 1)]);
    await store.putBillingEvents(
      [storedEvent({ id: 'old-bill', tenantId: tid, timestamp: new Date(now - (RETENTION.billingDays + 2) * day).toISOString(), type: 'ret' }), storedEvent({ id: 'young-bill', tenantId: tid, timestamp: new Date(now - (RETENTION.billingDays - 1) * day).toISOString(), type: 'ret' })],
      new Date(),
    );
    const run = await retentionJob({ now: new Date(now).toISOString() });
    expect(run.failed).toEqual([]);
    expect(run.expired).toContainEqual({ partition: `TENANT#${tid}`, auditRecords: 1, billingEvents: 1, billingDaySums: 1 });
    const items = await h.items(`TENANT#${tid}`);
    const ids = items.map((i) => i['id']);
    expect(ids).not.toContain('old-audit');
    expect(ids).not.toContain('old-bill');
    expect(ids).toContain('young-audit');
    expect(ids).toContain('young-bill');
    const record = items.find((i) => i['action'] === 'retention.expire');
    expect(record).toMatchObject({ actorType: 'System', outcome: 'Success', resource: `tenant:${tid}`, metadata: expect.objectContaining({ auditRecords: 1, billingEvents: 1 }) });
    // A second run has nothing left to expire for this tenant.
    expect((await retentionJob({ now: new Date(now).toISOString() })).expired.find((e) => e.partition === `TENANT#${tid}`)).toBeUndefined();
  });
});
