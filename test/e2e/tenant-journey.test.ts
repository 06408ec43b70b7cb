/**
 * Issue #4's end-to-end journey, in one sequence as an operator and a tenant live it: provision with an
 * application → the Owner's invitation arrives → the Owner accepts and signs in → invites an
 * Administrator → who invites a User → a role change ends the User's session → disabling blocks sign-in →
 * suspending the tenant blocks everyone → restore → delete → restore within grace → delete again →
 * the clock passes the grace period → purge → ERR-RES-410, and the table holds no item of the tenant.
 * Audit records are checked at each step, denials included (FR-LOG-003).
 */
import * as oidc from 'openid-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { handler as purgeJob } from '../../functions/jobs/purge-tenants';
import { latestMessage } from '../../shared/adapters/local/outbox-mailer';
import { api, startHarness, type Harness } from '../support/harness';
import { Browser, hiddenFields } from '../support/browser';
import { registerApp, signIn, type RegisteredApp } from '../support/identity';

const REDIRECT = 'http://127.0.0.1:8980/callback';
const DOMAIN = 'journey-co';
let h: Harness;
let app: RegisteredApp;

beforeAll(async () => {
  h = await startHarness();
  app = await registerApp(h, { name: 'Journey App', clientType: 'confidential', redirectUris: [REDIRECT] });
});
afterAll(async () => {
  await h?.stop();
});

type Tokens = oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;

async function login(email: string, password: string): Promise<Tokens | null> {
  const c = await oidc.discovery(new URL(h.cp.apiUrl), app.clientId, app.clientSecret, oidc.ClientSecretBasic(app.clientSecret!), { execute: [oidc.allowInsecureRequests] });
  const verifier = oidc.randomPKCECodeVerifier();
  const r = await signIn(new Browser(), oidc.buildAuthorizationUrl(c, { redirect_uri: REDIRECT, scope: 'openid offline_access', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', tenant: DOMAIN }).href, { email, password });
  return r.callback ? oidc.authorizationCodeGrant(c, new URL(r.callback), { pkceCodeVerifier: verifier }) : null;
}

async function accept(email: string, password: string): Promise<void> {
  const mail = await latestMessage(h.dataDir, { to: email, kind: 'invitation' });
  const link = mail?.text.match(/https?:\/\/\S+\/invitations\/accept\?token=\S+/)?.[0];
  expect(link, `invitation mail for ${email}`).toBeDefined();
  const b = new Browser();
  const page = await b.request(link!);
  expect((await b.request(h.url('/invitations/accept'), { form: { ...hiddenFields(page.body), password } })).status).toBe(200);
}

async function refreshOk(t: Tokens): Promise<boolean> {
  const res = await fetch(h.url('/token'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: t.refresh_token! }),
  });
  return res.status === 200;
}

async function tenantAuditCount(tenantId: string, action: string, outcome: 'Success' | 'Failure' = 'Success'): Promise<number> {
  return (await h.items(`TENANT#${tenantId}`)).filter((a) => a['entity'] === 'Audit' && a['action'] === action && a['outcome'] === outcome).length;
}

it('UC-PROV-001 … FR-OPS-002: the whole tenant journey, audited at every step', async () => {
  const operator = await h.operatorToken();
  const ownerEmail = `owner@${DOMAIN}.example`;
  const adminEmail = `admin@${DOMAIN}.example`;
  const userEmail = `user@${DOMAIN}.example`;

  // Operator provisions, with the application enabled (UC-PROV-001).
  const created = await api(h, 'POST', '/v1/tenants', { token: operator, body: { name: 'Journey Co', domain: DOMAIN, plan: 'Pro', ownerEmail, appIds: [app.clientId] } });
  expect(created.status).toBe(201);
  const tenantId = (created.body['tenant'] as { id: string }).id;
  expect(await tenantAuditCount(tenantId, 'tenant.create')).toBe(1);

  // The Owner's invitation arrives; the Owner accepts and signs in through the login page.
  await accept(ownerEmail, 'cobalt-river-lantern-2077');
  const owner = (await login(ownerEmail, 'cobalt-river-lantern-2077'))!;
  expect(owner.claims()).toMatchObject({ tenant_id: tenantId, role: 'Owner' });

  // Owner invites an Administrator; the Administrator invites a User.
  expect((await api(h, 'POST', `/v1/tenants/${tenantId}/invitations`, { token: owner.access_token, body: { email: adminEmail, role: 'Administrator' } })).status).toBe(201);
  await accept(adminEmail, 'amber-canyon-thistle-3088');
  const admin = (await login(adminEmail, 'amber-canyon-thistle-3088'))!;
  const invited = await api(h, 'POST', `/v1/tenants/${tenantId}/invitations`, { token: admin.access_token, body: { email: userEmail, role: 'User' } });
  const userId = (invited.body['user'] as { id: string }).id;
  await accept(userEmail, 'velvet-orchard-beacon-4099');
  const user = (await login(userEmail, 'velvet-orchard-beacon-4099'))!;
  expect(await tenantAuditCount(tenantId, 'user.invite')).toBe(2);

  // A role change ends the User's session: refresh fails, userinfo 401.
  expect((await api(h, 'PATCH', `/v1/tenants/${tenantId}/users/${userId}`, { token: admin.access_token, body: { role: 'Administrator' } })).status).toBe(200);
  expect(await refreshOk(user)).toBe(false);
  expect((await fetch(h.url('/userinfo'), { headers: { authorization: `Bearer ${user.access_token}` } })).status).toBe(401);

  // Disabling blocks sign-in.
  expect((await api(h, 'PATCH', `/v1/tenants/${tenantId}/users/${userId}`, { token: admin.access_token, body: { status: 'Disabled' } })).status).toBe(200);
  expect(await login(userEmail, 'velvet-orchard-beacon-4099')).toBeNull();
  expect(await tenantAuditCount(tenantId, 'user.update')).toBe(2);

  // A denial along the way: the Administrator tries to disable the Owner.
  const denied = await api(h, 'PATCH', `/v1/tenants/${tenantId}/users/${(created.body['owner'] as { id: string }).id}`, { token: admin.access_token, body: { status: 'Disabled' } });
  expect(denied).toMatchObject({ status: 403, body: { code: 'ERR-AUTH-403', detail: 'Not allowed: an Administrator cannot act on an Owner.' } });
  const denials = (await h.items('PLATFORM#AUDIT')).filter((a) => a['action'] === 'user.update' && (a['metadata'] as Record<string, unknown>)['denied'] === true);
  expect(denials).toHaveLength(1);

  // Suspending the tenant blocks everyone at once; restore lets them back.
  expect((await api(h, 'POST', `/v1/tenants/${tenantId}/suspend`, { token: operator, body: { reason: 'journey' } })).status).toBe(200);
  expect(await refreshOk(owner)).toBe(false);
  expect(await login(adminEmail, 'amber-canyon-thistle-3088')).toBeNull();
  expect((await api(h, 'POST', `/v1/tenants/${tenantId}/restore`, { token: operator })).status).toBe(200);
  expect(await login(adminEmail, 'amber-canyon-thistle-3088')).not.toBeNull();

  // Delete → restore within grace → delete again.
  expect((await api(h, 'DELETE', `/v1/tenants/${tenantId}?confirm=${DOMAIN}`, { token: operator })).status).toBe(202);
  expect(await login(ownerEmail, 'cobalt-river-lantern-2077')).toBeNull();
  expect((await api(h, 'POST', `/v1/tenants/${tenantId}/restore`, { token: operator })).status).toBe(200);
  expect(await login(ownerEmail, 'cobalt-river-lantern-2077')).not.toBeNull();
  const deleted = await api(h, 'DELETE', `/v1/tenants/${tenantId}?confirm=${DOMAIN}`, { token: operator });
  const purgeAfter = Date.parse((deleted.body['deletion'] as { purgeAfter: string }).purgeAfter);
  for (const action of ['tenant.suspend', 'tenant.delete', 'tenant.restore']) expect(await tenantAuditCount(tenantId, action)).toBeGreaterThanOrEqual(1);
  expect(await tenantAuditCount(tenantId, 'tenant.delete')).toBe(2);

  // The clock passes the grace period: the job purges; the tenant answers 410; no item of it remains.
  const run = await purgeJob({ now: new Date(purgeAfter + 1).toISOString() });
  expect(run.purged.map((p) => p.tenantId)).toEqual([tenantId]);
  expect((await api(h, 'GET', `/v1/tenants/${tenantId}`, { token: operator })).status).toBe(410);
  const remaining = (await h.allItems()).filter((i) => JSON.stringify([i['PK'], i['SK'], i['GSI1PK'], i['tenantId']]).includes(tenantId));
  // Only the tombstone that makes the 410 possible, and the platform's own record of the purge.
  expect(remaining.map((i) => `${String(i['PK'])}|${String(i['entity'])}`).sort()).toEqual(['PLATFORM#PURGED|PurgedTenant']);
  expect(await h.items(`TENANT#${tenantId}`)).toEqual([]);
  expect((await h.items('PLATFORM#AUDIT')).filter((a) => a['action'] === 'tenant.purge' && a['resource'] === `tenant:${tenantId}`)).toHaveLength(1);
}, 120_000);
