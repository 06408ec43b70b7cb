/**
 * Issue #5 acceptance for API access keys (FR-SYS-002, DAT-KEY, 004 FR-004) through HTTP against the
 * local control plane and DynamoDB Local; the verifier is exercised on the real adapter and table.
 * Note: there is no application ownership model yet, so any developer manages any application's keys.
 */
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoApiKeyStore } from '../../shared/adapters/dynamo/apikey-store';
import { ApiKeyService } from '../../shared/domain/apikeys';
import { AuthenticationError } from '../../shared/domain/errors';
import { api, startHarness, type Harness } from '../support/harness';
import { Browser } from '../support/browser';
import { enableApp, OWNER_PASSWORD, registerApp, signIn, tenantWithOwner, type RegisteredApp } from '../support/identity';

const REDIRECT = 'http://127.0.0.1:8981/callback';
let h: Harness;
let dev: string;
let app: RegisteredApp;
let other: RegisteredApp;

beforeAll(async () => {
  h = await startHarness();
  dev = await h.developerToken();
  app = await registerApp(h, { name: 'Keyed App', clientType: 'confidential', redirectUris: [REDIRECT] });
  other = await registerApp(h, { name: 'Other App', clientType: 'confidential', redirectUris: [REDIRECT] });
});
afterAll(async () => {
  await h?.stop();
});

type Item = Record<string, unknown>;
const keysPath = (appId: string): string => `/v1/apps/${appId}/keys`;

async function createKey(appId: string, body: Record<string, unknown> = { name: 'flags reader', scopes: ['flag:read'] }): Promise<{ keyId: string; key: string; body: Item }> {
  const r = await api(h, 'POST', keysPath(appId), { token: dev, body });
  if (r.status !== 201) throw new Error(`key creation failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { keyId: String(r.body['keyId']), key: String(r.body['key']), body: r.body };
}

async function platformAudit(action: string): Promise<Item[]> {
  return (await h.items('PLATFORM#AUDIT')).filter((a) => a['action'] === action);
}

describe('API access keys (FR-SYS-002)', () => {
  it('FR-SYS-002: the key is shown once at creation; listing and the table never hold the secret', async () => {
    const created = await api(h, 'POST', keysPath(app.clientId), { token: dev, body: { name: 'billing', scopes: ['bill:write', 'bill:read'], expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString() } });
    expect(created.status).toBe(201);
    const key = String(created.body['key']);
    const keyId = String(created.body['keyId']);
    expect(key).toMatch(new RegExp(`^cpk_${keyId}_[A-Za-z0-9_-]{43}$`));
    expect(created.body).toMatchObject({ prefix: `cpk_${keyId}`, appId: app.clientId, name: 'billing', scopes: ['bill:write', 'bill:read'], status: 'Active', lastUsedAt: null });
    expect(created.body).not.toHaveProperty('secretHash');
    const secret = key.slice(`cpk_${keyId}_`.length);

    const listed = await api(h, 'GET', keysPath(app.clientId), { token: dev });
    expect(listed.status).toBe(200);
    const items = listed.body['items'] as Item[];
    const mine = items.find((k) => k['keyId'] === keyId);
    expect(mine).toMatchObject({ prefix: `cpk_${keyId}`, status: 'Active' });
    expect(mine).not.toHaveProperty('key');
    expect(mine).not.toHaveProperty('secretHash');
    expect(JSON.stringify(listed.body)).not.toContain(secret);

    const stored = [...(await h.items(`APIKEY#${keyId}`)), ...(await h.items(`APP#${app.clientId}`))];
    expect(stored.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(JSON.stringify(await h.allItems())).not.toContain(secret);

    const audit = (await platformAudit('apikey.create')).find((a) => a['resource'] === `apikey:${keyId}`);
    expect(audit).toMatchObject({ outcome: 'Success' });
    expect(JSON.stringify(audit)).not.toContain(secret);
  });

  it('FR-SYS-002: revocation is audited, idempotent and stops the verifier; usage is tracked (004 FR-004)', async () => {
    const { keyId, key } = await createKey(app.clientId);
    const verifier = new ApiKeyService(new DynamoApiKeyStore(h.db, h.cp.tableName), { cacheTtlMs: 0 });
    await expect(verifier.verify(key)).resolves.toEqual({ keyId, appId: app.clientId, scopes: ['flag:read'] });
    await expect.poll(async () => (await h.items(`APIKEY#${keyId}`))[0]?.['lastUsedAt'], { timeout: 5000 }).toEqual(expect.any(String));

    const revoked = await api(h, 'DELETE', `${keysPath(app.clientId)}/${keyId}`, { token: dev });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ keyId, status: 'Revoked', revokedAt: expect.any(String) });
    await expect(verifier.verify(key)).rejects.toBeInstanceOf(AuthenticationError);
    const again = await api(h, 'DELETE', `${keysPath(app.clientId)}/cpk_${keyId}`, { token: dev });
    expect(again.status).toBe(200);
    expect(again.body['revokedAt']).toBe(revoked.body['revokedAt']);
    expect((await platformAudit('apikey.revoke')).filter((a) => a['resource'] === `apikey:${keyId}` && a['outcome'] === 'Success').length).toBeGreaterThanOrEqual(1);
  });

  it('ERR-VAL-400: unknown scope, no scope, unknown fields; an expiry in the past or beyond 2 years', async () => {
    for (const body of [
      { name: 'x', scopes: ['flag:write'] },
      { name: 'x', scopes: [] },
      { name: 'x', scopes: ['flag:read'], secret: 'mine' },
      { name: '', scopes: ['flag:read'] },
      { name: 'x', scopes: ['flag:read'], expiresAt: 'tomorrow' },
    ]) {
      const r = await api(h, 'POST', keysPath(app.clientId), { token: dev, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body['code']).toBe('ERR-VAL-400');
    }
    for (const expiresAt of [new Date(Date.now() - 60_000).toISOString(), new Date(Date.now() + 3 * 365 * 86_400_000).toISOString()]) {
      const r = await api(h, 'POST', keysPath(app.clientId), { token: dev, body: { name: 'x', scopes: ['flag:read'], expiresAt } });
      expect(r.status).toBe(400);
      expect((r.body['errors'] as { pointer: string }[])[0]?.pointer).toBe('/expiresAt');
    }
  });

  it("ERR-RES-404: another application's key id in the path, an unknown key, an unknown application", async () => {
    const { keyId } = await createKey(other.clientId);
    const r = await api(h, 'DELETE', `${keysPath(app.clientId)}/${keyId}`, { token: dev });
    expect(r.status).toBe(404);
    expect((await h.items(`APIKEY#${keyId}`))[0]?.['status']).toBe('Active');
    expect((await api(h, 'DELETE', `${keysPath(app.clientId)}/0123456789abcdef`, { token: dev })).status).toBe(404);
    const ghost = '00000000-0000-4000-8000-000000000000';
    expect((await api(h, 'POST', keysPath(ghost), { token: dev, body: { name: 'x', scopes: ['flag:read'] } })).status).toBe(404);
    expect((await api(h, 'GET', keysPath(ghost), { token: dev })).status).toBe(404);
    expect((await api(h, 'DELETE', `${keysPath(app.clientId)}/not-a-key`, { token: dev })).status).toBe(400);
    // Listing is per application: the other app's key is not in this app's list.
    const listed = (await api(h, 'GET', keysPath(app.clientId), { token: dev })).body['items'] as Item[];
    expect(listed.some((k) => k['keyId'] === keyId)).toBe(false);
  });

  it('SC-002: any developer (no app ownership yet) and operators manage keys; auditors, tenant users and anonymous callers cannot', async () => {
    // A different developer than the one who registered the app.
    const otherDev = await h.mintToken({ sub: 'dev-developer-0002', email: 'dev2@example.com', groups: ['cp-developers'] }, { expiresIn: '10m' });
    expect((await api(h, 'POST', keysPath(app.clientId), { token: otherDev, body: { name: 'by another dev', scopes: ['log:write'] } })).status).toBe(201);
    expect((await api(h, 'GET', keysPath(app.clientId), { token: await h.operatorToken() })).status).toBe(200);

    const auditor = await h.mintToken({ sub: 'dev-auditor-0001', email: 'auditor@example.com', groups: ['cp-auditors'] }, { expiresIn: '10m' });
    for (const [method, path] of [['POST', keysPath(app.clientId)], ['GET', keysPath(app.clientId)], ['DELETE', `${keysPath(app.clientId)}/0123456789abcdef`]] as const) {
      const r = await api(h, method, path, { token: auditor, ...(method === 'POST' ? { body: { name: 'x', scopes: ['flag:read'] } } : {}) });
      expect(r.status, `${method} ${path}`).toBe(403);
    }
    expect((await platformAudit('apikey.create')).some((a) => a['outcome'] !== 'Success')).toBe(true);

    // A tenant Owner's own access token is no developer credential.
    const tenant = await tenantWithOwner(h, 'keys-acme', h.dataDir);
    await enableApp(h, tenant.tenantId, app.clientId);
    const c = await oidc.discovery(new URL(h.cp.apiUrl), app.clientId, app.clientSecret, oidc.ClientSecretBasic(app.clientSecret!), { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(c, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', tenant: tenant.domain });
    const { callback } = await signIn(new Browser(), url.href, { email: tenant.ownerEmail, password: OWNER_PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(c, new URL(callback!), { pkceCodeVerifier: verifier });
    const asOwner = await api(h, 'POST', keysPath(app.clientId), { token: tokens.access_token, body: { name: 'x', scopes: ['flag:read'] } });
    expect([401, 403]).toContain(asOwner.status);

    expect((await api(h, 'GET', keysPath(app.clientId))).status).toBe(401);
  });
});
