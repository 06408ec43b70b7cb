/**
 * Issue #5 acceptance: flags reach managed applications through an OpenFeature SDK with the OFREP
 * provider from the npm registry (not code of ours), and through the REST delivery API with ETags.
 * FR-FLAG-001, FR-FLAG-002, API-FLAG, FR-SYS-002, SC-003.
 */
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OpenFeature } from '@openfeature/server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as purgeJob } from '../../functions/jobs/purge-tenants';
import { DELIVERY_CACHE_TTL_MS } from '../../shared/api/flag-delivery';
import { api, startHarness, type Harness } from '../support/harness';
import { registerApp, type RegisteredApp } from '../support/identity';

let h: Harness;
let operator: string;
let app: RegisteredApp;
let tenantId: string;
let key: string;

async function provision(domain: string, plan = 'Pro'): Promise<string> {
  const res = await api(h, 'POST', '/v1/tenants', { token: operator, body: { name: domain, domain, plan, ownerEmail: `owner@${domain}.example` } });
  expect(res.status).toBe(201);
  return (res.body['tenant'] as { id: string }).id;
}

async function issueKey(appId: string, scopes: string[], extra: Record<string, unknown> = {}): Promise<string> {
  const res = await api(h, 'POST', `/v1/apps/${appId}/keys`, { token: await h.developerToken(), body: { name: 'test key', scopes, ...extra } });
  expect(res.status).toBe(201);
  const secret = res.body['key'];
  expect(secret).toMatch(/^cpk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  return secret as string;
}

async function setFlag(tenant: string, flag: string, value: unknown): Promise<void> {
  const res = await api(h, 'PUT', `/v1/tenants/${tenant}/flags/${flag}`, { token: operator, body: { value } });
  expect(res.status).toBe(200);
}

/** Delivery state is cached per environment for DELIVERY_CACHE_TTL_MS: changes show within that bound. */
async function eventually<T>(probe: () => Promise<T>, accept: (v: T) => boolean, timeoutMs = DELIVERY_CACHE_TTL_MS * 3): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await probe();
    if (accept(v) || Date.now() - start > timeoutMs) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function ofrep(apiKey: string | undefined, body: unknown, flag?: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(h.url(flag ? `/ofrep/v1/evaluate/flags/${flag}` : '/ofrep/v1/evaluate/flags'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}), ...headers },
    body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  h = await startHarness();
  operator = await h.operatorToken();
  app = await registerApp(h, { name: 'Flag Consumer', clientType: 'confidential', grantTypes: ['client_credentials'] });
  tenantId = await provision('flags-acme');
  expect((await api(h, 'PUT', `/v1/tenants/${tenantId}/apps/${app.clientId}`, { token: operator })).status).toBe(200);
  key = await issueKey(app.clientId, ['flag:read']);
});
afterAll(async () => {
  await OpenFeature.close();
  await h?.stop();
});

describe('OpenFeature SDK + OFREP provider (FR-FLAG-002)', () => {
  it('FR-FLAG-002: boolean and string evaluations, an operator flip seen on refetch, unknown flag → default with FLAG_NOT_FOUND', async () => {
    await OpenFeature.setProviderAndWait(new OFREPProvider({ baseUrl: h.cp.apiUrl, headers: { Authorization: `Bearer ${key}` } }));
    const client = OpenFeature.getClient();
    const ctx = { targetingKey: 'user-42', tenantId };

    expect(await client.getBooleanValue('ai_module_enabled', false, ctx)).toBe(true); // Pro plan default
    await setFlag(tenantId, 'theme', 'dark');
    expect(await eventually(() => client.getStringValue('theme', 'light', ctx), (v) => v === 'dark')).toBe('dark');

    await setFlag(tenantId, 'ai_module_enabled', false);
    const flipped = await eventually(() => client.getBooleanDetails('ai_module_enabled', true, ctx), (d) => d.value === false);
    expect(flipped.value).toBe(false);
    expect(flipped.reason).toBe('STATIC');

    const missing = await client.getBooleanDetails('no_such_flag', true, ctx);
    expect(missing.value).toBe(true);
    expect(missing.errorCode).toBe('FLAG_NOT_FOUND');
  });
});

describe('REST delivery and OFREP bulk caching (API-FLAG)', () => {
  it('API-FLAG: strong ETag from the flag version; If-None-Match → 304; a change gives a new ETag', async () => {
    const get = (headers: Record<string, string> = {}) => fetch(h.url(`/v1/flags?tenantId=${tenantId}`), { headers: { authorization: `Bearer ${key}`, ...headers } });
    const first = await get();
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(first.headers.get('cache-control')).toMatch(/max-age=\d+/);
    expect(((await first.json()) as { flags: Record<string, unknown> }).flags).toHaveProperty('theme');
    expect((await get({ 'if-none-match': etag })).status).toBe(304);
    await setFlag(tenantId, 'max_projects', 25);
    const changed = await eventually(() => get({ 'if-none-match': etag }), (r) => r.status === 200);
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(((await changed.json()) as { flags: Record<string, unknown> }).flags['max_projects']).toBe(25);
  });

  it('OFREP: the bulk ETag depends on the flag version and on the evaluation context', async () => {
    const ctx = { context: { targetingKey: 'u1', tenantId } };
    const first = await ofrep(key, ctx);
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    const body = (await first.json()) as { flags: { key: string; value: unknown; reason: string }[] };
    expect(body.flags.find((f) => f.key === 'theme')).toMatchObject({ value: 'dark', reason: 'STATIC' });
    expect((await ofrep(key, ctx, undefined, { 'if-none-match': etag })).status).toBe(304);
    expect((await ofrep(key, { context: { targetingKey: 'u2', tenantId } }, undefined, { 'if-none-match': etag })).status).toBe(200);
  });

  it('OFREP: a context without a tenant is TARGETING_KEY_MISSING, a malformed one INVALID_CONTEXT', async () => {
    const a = await ofrep(key, { context: {} }, 'theme');
    expect(a.status).toBe(400);
    expect(await a.json()).toMatchObject({ key: 'theme', errorCode: 'TARGETING_KEY_MISSING' });
    const b = await ofrep(key, { context: { tenantId: 'acme' } }, 'theme');
    expect(await b.json()).toMatchObject({ errorCode: 'INVALID_CONTEXT' });
  });
});

describe('Refusals, each audited (FR-SYS-002, FR-LOG-003)', () => {
  async function denialCount(): Promise<number> {
    return (await h.items('PLATFORM#AUDIT')).filter((a) => (a['metadata'] as Record<string, unknown>)['denied'] === true).length;
  }

  it('FR-SYS-002: missing and malformed keys → 401 without body; wrong scope and another app’s tenant → 403', async () => {
    const before = await denialCount();
    const ctx = { context: { tenantId } };
    const none = await ofrep(undefined, ctx, 'theme');
    expect(none.status).toBe(401);
    expect(await none.text()).toBe('');
    expect((await ofrep('cpk_not-a-real-key', ctx, 'theme')).status).toBe(401);
    const billKey = await issueKey(app.clientId, ['bill:write']);
    expect((await ofrep(billKey, ctx, 'theme')).status).toBe(403);
    const otherTenant = await provision('flags-other');
    const foreign = await ofrep(key, { context: { tenantId: otherTenant } }, 'theme');
    expect(foreign.status).toBe(403);
    expect(await foreign.text()).toBe('');
    expect(await denialCount()).toBe(before + 4);
  });

  it('FR-OPS-001 / FR-OPS-002: a suspended tenant → 403; a purged tenant → 410', async () => {
    const t = await provision('flags-doomed');
    await api(h, 'PUT', `/v1/tenants/${t}/apps/${app.clientId}`, { token: operator });
    const ctx = { context: { tenantId: t } };
    expect((await ofrep(key, ctx, 'ai_module_enabled')).status).toBe(200);
    await api(h, 'POST', `/v1/tenants/${t}/suspend`, { token: operator, body: {} });
    expect((await eventually(() => ofrep(key, ctx, 'ai_module_enabled'), (r) => r.status === 403)).status).toBe(403);
    const del = await api(h, 'DELETE', `/v1/tenants/${t}?confirm=flags-doomed`, { token: operator });
    await purgeJob({ now: new Date(Date.parse((del.body['deletion'] as { purgeAfter: string }).purgeAfter) + 1).toISOString() });
    expect((await eventually(() => ofrep(key, ctx, 'ai_module_enabled'), (r) => r.status === 410)).status).toBe(410);
    expect((await fetch(h.url(`/v1/flags?tenantId=${t}`), { headers: { authorization: `Bearer ${key}` } })).status).toBe(410);
  });
});

describe('SC-003: revocation, app disable and key expiry take effect within 30 s', () => {
  async function secondsUntilRefused(apiKey: string, change: () => Promise<void>): Promise<number> {
    const ctx = { context: { tenantId } };
    expect((await ofrep(apiKey, ctx, 'theme')).status).toBe(200); // warm the verification cache
    const start = Date.now();
    await change();
    for (;;) {
      const status = (await ofrep(apiKey, ctx, 'theme')).status;
      if (status === 401) return (Date.now() - start) / 1000;
      expect(status).toBe(200);
      if (Date.now() - start > 35_000) throw new Error('still accepted after 35 s');
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  it('SC-003: a revoked key, a disabled application and an expired key are refused within 30 s', async () => {
    const revokedKey = await issueKey(app.clientId, ['flag:read']);
    const expiringKey = await issueKey(app.clientId, ['flag:read'], { expiresAt: new Date(Date.now() + 4000).toISOString() });
    const other = await registerApp(h, { name: 'Soon Disabled', clientType: 'confidential', grantTypes: ['client_credentials'] });
    await api(h, 'PUT', `/v1/tenants/${tenantId}/apps/${other.clientId}`, { token: operator });
    const disabledAppKey = await issueKey(other.clientId, ['flag:read']);
    const keyId = revokedKey.split('_')[1];
    const [revoked, expired, disabled] = await Promise.all([
      secondsUntilRefused(revokedKey, async () => {
        expect((await api(h, 'DELETE', `/v1/apps/${app.clientId}/keys/${keyId}`, { token: await h.developerToken() })).status).toBe(200);
      }),
      secondsUntilRefused(expiringKey, async () => undefined),
      secondsUntilRefused(disabledAppKey, async () => {
        expect((await api(h, 'PATCH', `/v1/apps/${other.clientId}`, { token: await h.developerToken(), body: { status: 'Disabled' } })).status).toBe(200);
      }),
    ]);
    for (const s of [revoked, expired, disabled]) expect(s).toBeLessThanOrEqual(30);
  }, 60_000);
});
