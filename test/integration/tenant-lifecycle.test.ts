/**
 * FR-OPS-001 suspension and FR-OPS-002 deletion with grace and purge, through the API, the OIDC
 * endpoints and the purge job (invoked with a moved clock, never by waiting).
 */
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as purgeJob } from '../../functions/jobs/purge-tenants';
import { api, startHarness, type Harness } from '../support/harness';
import { Browser } from '../support/browser';
import { enableApp, OWNER_PASSWORD, registerApp, signIn, tenantWithOwner, type RegisteredApp, type TenantWithOwner } from '../support/identity';

const REDIRECT = 'http://127.0.0.1:8978/callback';
let h: Harness;
let operator: string;
let app: RegisteredApp;

beforeAll(async () => {
  h = await startHarness();
  operator = await h.operatorToken();
  app = await registerApp(h, { name: 'Lifecycle App', clientType: 'confidential', redirectUris: [REDIRECT] });
});
afterAll(async () => {
  await h?.stop();
});

async function client(): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(h.cp.apiUrl), app.clientId, app.clientSecret, oidc.ClientSecretBasic(app.clientSecret!), { execute: [oidc.allowInsecureRequests] });
}

async function signInTokens(t: TenantWithOwner): Promise<(oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers) | null> {
  const c = await client();
  const verifier = oidc.randomPKCECodeVerifier();
  const r = await signIn(new Browser(), oidc.buildAuthorizationUrl(c, { redirect_uri: REDIRECT, scope: 'openid offline_access', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', tenant: t.domain }).href, { email: t.ownerEmail, password: OWNER_PASSWORD });
  return r.callback ? oidc.authorizationCodeGrant(c, new URL(r.callback), { pkceCodeVerifier: verifier }) : null;
}

async function tenantAudit(tenantId: string, action: string): Promise<Record<string, unknown>[]> {
  return (await h.items(`TENANT#${tenantId}`)).filter((a) => a['action'] === action);
}

describe('Suspension (FR-OPS-001)', () => {
  let t: TenantWithOwner;
  beforeAll(async () => {
    t = await tenantWithOwner(h, 'life-suspend', h.dataDir);
    await enableApp(h, t.tenantId, app.clientId);
  });

  it('FR-OPS-001: suspension denies every user at once — refresh, userinfo, introspection, sign-in — and restore lets them in again', async () => {
    const c = await client();
    const tokens = (await signInTokens(t))!;
    expect((await oidc.tokenIntrospection(c, tokens.access_token)).active).toBe(true);

    const res = await api(h, 'POST', `/v1/tenants/${t.tenantId}/suspend`, { token: operator, body: { reason: 'unpaid invoice' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'Suspended', suspension: { reason: 'unpaid invoice' } });

    expect((await oidc.tokenIntrospection(c, tokens.access_token)).active).toBe(false);
    await expect(oidc.fetchUserInfo(c, tokens.access_token, tokens.claims()!.sub)).rejects.toBeDefined();
    await expect(oidc.refreshTokenGrant(c, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await signInTokens(t)).toBeNull();
    const me = await fetch(h.url('/v1/me/password'), { method: 'POST', headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' }, body: '{}' });
    expect(me.status).toBe(401);

    const again = await api(h, 'POST', `/v1/tenants/${t.tenantId}/suspend`, { token: operator, body: {} });
    expect(again).toMatchObject({ status: 422, body: { code: 'ERR-VAL-422' } });

    const restored = await api(h, 'POST', `/v1/tenants/${t.tenantId}/restore`, { token: operator });
    expect(restored.body).toMatchObject({ status: 'Active', suspension: null });
    expect(await signInTokens(t)).not.toBeNull();

    const audit = await tenantAudit(t.tenantId, 'tenant.suspend');
    expect(audit.filter((a) => a['outcome'] === 'Success')).toHaveLength(1);
    expect(audit.find((a) => a['outcome'] === 'Success')?.['metadata']).toMatchObject({ from: 'Active', to: 'Suspended', reason: 'unpaid invoice' });
    const failures = (await h.items('PLATFORM#AUDIT')).filter((a) => a['action'] === 'tenant.suspend' && a['outcome'] === 'Failure');
    expect(failures.map((a) => (a['metadata'] as Record<string, unknown>)['pathParameters'])).toContainEqual({ id: t.tenantId });
    expect(await tenantAudit(t.tenantId, 'tenant.restore')).toHaveLength(1);
  });

  it('ERR-AUTH-403: only operators may suspend', async () => {
    const res = await api(h, 'POST', `/v1/tenants/${t.tenantId}/suspend`, { token: await h.developerToken(), body: {} });
    expect(res.status).toBe(403);
    expect((await api(h, 'GET', `/v1/tenants/${t.tenantId}`, { token: operator })).body['status']).toBe('Active');
  });
});

describe('Deletion with grace, purge, and ERR-RES-410 (FR-OPS-002)', () => {
  let t: TenantWithOwner;
  beforeAll(async () => {
    t = await tenantWithOwner(h, 'life-delete', h.dataDir);
    await enableApp(h, t.tenantId, app.clientId);
    expect(await signInTokens(t)).not.toBeNull();
  });

  it('FR-OPS-002: deletion needs the domain typed as confirmation; without it nothing changes', async () => {
    const res = await api(h, 'DELETE', `/v1/tenants/${t.tenantId}?confirm=wrong`, { token: operator });
    expect(res).toMatchObject({ status: 422, body: { code: 'ERR-VAL-422', errors: [{ pointer: '/confirm' }] } });
    expect((await api(h, 'GET', `/v1/tenants/${t.tenantId}`, { token: operator })).body['status']).toBe('Active');
  });

  it('FR-OPS-002: deleted → inaccessible; restored within grace; deleted again; clock past grace → purge → 410 and no item left', async () => {
    const del = await api(h, 'DELETE', `/v1/tenants/${t.tenantId}?confirm=${t.domain}`, { token: operator });
    expect(del.status).toBe(202);
    expect(del.body).toMatchObject({ status: 'PendingDeletion', deletion: { previousStatus: 'Active' } });
    expect(await signInTokens(t)).toBeNull();

    const restored = await api(h, 'POST', `/v1/tenants/${t.tenantId}/restore`, { token: operator });
    expect(restored.body).toMatchObject({ status: 'Active', deletion: null });
    expect(await signInTokens(t)).not.toBeNull();

    const again = await api(h, 'DELETE', `/v1/tenants/${t.tenantId}?confirm=${t.domain}`, { token: operator });
    const purgeAfter = Date.parse((again.body['deletion'] as { purgeAfter: string }).purgeAfter);
    expect(purgeAfter - Date.now()).toBeGreaterThan(29 * 86_400_000);

    // Not yet due: the job leaves it alone.
    expect((await purgeJob({ now: new Date(purgeAfter - 60_000).toISOString() })).purged).toEqual([]);
    expect((await h.items(`TENANT#${t.tenantId}`)).length).toBeGreaterThan(5);

    // Issue #6: the tenant's audit records have reached the archive (partitioned by tenant and date).
    await h.settle();
    const archived = join(h.dataDir, 'objects', 'audit-archive', 'audit', `tenant=${t.tenantId}`);
    expect(existsSync(archived)).toBe(true);

    const run = await purgeJob({ now: new Date(purgeAfter + 1000).toISOString() });
    expect(run.purged).toEqual([{ tenantId: t.tenantId, deletedItems: expect.any(Number), archiveObjects: expect.any(Number) }]);
    expect(run.purged[0]!.archiveObjects).toBeGreaterThan(0);
    expect(existsSync(archived) ? readdirSync(archived, { recursive: true }).filter((f) => String(f).endsWith('.jsonl')) : []).toEqual([]);
    expect(await h.items(`TENANT#${t.tenantId}`)).toEqual([]);
    expect(await h.items(`TENANTDOMAIN#${t.domain}`)).toEqual([]);
    const leftovers = (await h.allItems()).filter((i) => JSON.stringify(i).includes(t.tenantId) && i['PK'] !== 'PLATFORM#PURGED' && i['PK'] !== 'PLATFORM#AUDIT' && i['PK'] !== 'PLATFORM#AUDITBATCH');
    expect(leftovers).toEqual([]);

    const gone = await api(h, 'GET', `/v1/tenants/${t.tenantId}`, { token: operator });
    expect(gone).toMatchObject({ status: 410, body: { code: 'ERR-RES-410' } });
    expect((await api(h, 'POST', `/v1/tenants/${t.tenantId}/restore`, { token: operator })).status).toBe(410);
    const purgeAudit = (await h.items('PLATFORM#AUDIT')).filter((a) => a['action'] === 'tenant.purge');
    expect(purgeAudit).toEqual([expect.objectContaining({ resource: `tenant:${t.tenantId}`, actorType: 'System', outcome: 'Success' })]);
    // It says what it deleted, archive objects included.
    expect((purgeAudit[0]!['metadata'] as Record<string, unknown>)['archive']).toEqual({ auditObjects: expect.any(Number), billingObjects: 0 });
    // Idempotent: a second run finds nothing to do.
    expect((await purgeJob({ now: new Date(purgeAfter + 5000).toISOString() })).purged).toEqual([]);
    // The domain is free again, and its new tenant's users sign in at once: this process's sign-in cache
    // still maps the domain to the purged tenant, and reads the domain again when that tenant is gone.
    const reborn = await tenantWithOwner(h, t.domain, h.dataDir);
    expect(reborn.tenantId).not.toBe(t.tenantId);
    await enableApp(h, reborn.tenantId, app.clientId);
    expect((await signInTokens(reborn))?.claims()?.['tenant_id']).toBe(reborn.tenantId);
  });

  it('FR-OPS-002: an interrupted purge is resumed by the next run', async () => {
    const t2 = await tenantWithOwner(h, 'life-resume', h.dataDir);
    const del = await api(h, 'DELETE', `/v1/tenants/${t2.tenantId}?confirm=${t2.domain}`, { token: operator });
    const purgeAfter = (del.body['deletion'] as { purgeAfter: string }).purgeAfter;
    // Simulate a run that wrote its tombstone and deleted the tenant item, then died.
    await h.db.send(new DeleteCommand({ TableName: h.cp.tableName, Key: { PK: `TENANT#${t2.tenantId}`, SK: 'TENANT' } }));
    const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
    await h.db.send(new PutCommand({ TableName: h.cp.tableName, Item: { PK: 'PLATFORM#PURGED', SK: `TENANT#${t2.tenantId}`, entity: 'PurgedTenant', tenantId: t2.tenantId, domain: t2.domain, purgeAfter } }));
    expect((await h.items(`TENANT#${t2.tenantId}`)).length).toBeGreaterThan(0);
    const run = await purgeJob({ now: new Date(Date.parse(purgeAfter) + 1000).toISOString() });
    expect(run.purged.map((p) => p.tenantId)).toEqual([t2.tenantId]);
    expect(await h.items(`TENANT#${t2.tenantId}`)).toEqual([]);
    expect(await h.items(`TENANTDOMAIN#${t2.domain}`)).toEqual([]);
  });
});
