/**
 * Issue #4 acceptance: tenant administration by the tenant's own Owners and Administrators, with every
 * change and denial audited, and tenant isolation proved against the table.
 */
import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latestMessage } from '../../shared/adapters/local/outbox-mailer';
import { api, startHarness, type Harness } from '../support/harness';
import { Browser, hiddenFields } from '../support/browser';
import { enableApp, OWNER_PASSWORD, registerApp, signIn, tenantWithOwner, type RegisteredApp, type TenantWithOwner } from '../support/identity';

const REDIRECT = 'http://127.0.0.1:8979/callback';
const PASSWORD = 'saffron-kettle-meadow-5521';
let h: Harness;
let app: RegisteredApp;
let a: TenantWithOwner;
let b: TenantWithOwner;

beforeAll(async () => {
  h = await startHarness();
  app = await registerApp(h, { name: 'Admin App', clientType: 'confidential', redirectUris: [REDIRECT] });
  a = await tenantWithOwner(h, 'adm-a', h.dataDir);
  b = await tenantWithOwner(h, 'adm-b', h.dataDir);
  await enableApp(h, a.tenantId, app.clientId);
  await enableApp(h, b.tenantId, app.clientId);
});
afterAll(async () => {
  await h?.stop();
});

type Tokens = oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;

async function login(tenantDomain: string, email: string, password: string): Promise<Tokens | null> {
  const c = await oidc.discovery(new URL(h.cp.apiUrl), app.clientId, app.clientSecret, oidc.ClientSecretBasic(app.clientSecret!), { execute: [oidc.allowInsecureRequests] });
  const verifier = oidc.randomPKCECodeVerifier();
  const r = await signIn(new Browser(), oidc.buildAuthorizationUrl(c, { redirect_uri: REDIRECT, scope: 'openid offline_access', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', tenant: tenantDomain }).href, { email, password });
  return r.callback ? oidc.authorizationCodeGrant(c, new URL(r.callback), { pkceCodeVerifier: verifier }) : null;
}

async function acceptLatestInvitation(email: string, password = PASSWORD): Promise<void> {
  const mail = await latestMessage(h.dataDir, { to: email, kind: 'invitation' });
  const link = mail?.text.match(/https?:\/\/\S+\/invitations\/accept\?token=\S+/)?.[0];
  if (!link) throw new Error(`no invitation for ${email}`);
  const br = new Browser();
  const page = await br.request(link);
  const res = await br.request(h.url('/invitations/accept'), { form: { ...hiddenFields(page.body), password } });
  if (res.status !== 200) throw new Error(`accept failed ${res.status}`);
}

async function userinfoStatus(t: Tokens): Promise<number> {
  return (await fetch(h.url('/userinfo'), { headers: { authorization: `Bearer ${t.access_token}` } })).status;
}

async function refreshStatus(t: Tokens): Promise<number> {
  const res = await fetch(h.url('/token'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: t.refresh_token! }),
  });
  return res.status;
}

async function auditActions(tenantId: string): Promise<string[]> {
  return (await h.items(`TENANT#${tenantId}`)).filter((i) => i['entity'] === 'Audit').map((i) => `${String(i['action'])}:${String(i['outcome'])}`);
}

describe('Tenant administration journey (FR-TENANT-001/002/004/006/007)', () => {
  const adminEmail = 'admin@adm-a.example';
  const userEmail = 'user@adm-a.example';
  let owner: Tokens;
  let admin: Tokens;
  let userId: string;

  it('FR-TENANT-001: the Owner invites an Administrator, who accepts and signs in; the Administrator invites a User', async () => {
    owner = (await login(a.domain, a.ownerEmail, OWNER_PASSWORD))!;
    const inv = await api(h, 'POST', `/v1/tenants/${a.tenantId}/invitations`, { token: owner.access_token, body: { email: adminEmail, role: 'Administrator' } });
    expect(inv.status).toBe(201);
    expect(inv.body['user']).toMatchObject({ status: 'Invited', role: 'Administrator' });
    await acceptLatestInvitation(adminEmail);
    admin = (await login(a.domain, adminEmail, PASSWORD))!;
    expect(admin.claims()?.['role']).toBe('Administrator');

    const dup = await api(h, 'POST', `/v1/tenants/${a.tenantId}/invitations`, { token: admin.access_token, body: { email: adminEmail, role: 'User' } });
    expect(dup).toMatchObject({ status: 409, body: { code: 'ERR-VAL-409' } });

    const u = await api(h, 'POST', `/v1/tenants/${a.tenantId}/invitations`, { token: admin.access_token, body: { email: userEmail, role: 'User' } });
    userId = (u.body['user'] as { id: string }).id;
    await acceptLatestInvitation(userEmail);
    expect(await login(a.domain, userEmail, PASSWORD)).not.toBeNull();
  });

  it('FR-TENANT-004: an Administrator may not invite an Owner nor touch the Owner; denials are 403 and audited', async () => {
    const before = (await h.items('PLATFORM#AUDIT')).length;
    expect((await api(h, 'POST', `/v1/tenants/${a.tenantId}/invitations`, { token: admin.access_token, body: { email: 'boss@adm-a.example', role: 'Owner' } })).status).toBe(403);
    expect((await api(h, 'PATCH', `/v1/tenants/${a.tenantId}/users/${a.ownerId}`, { token: admin.access_token, body: { status: 'Disabled' } })).status).toBe(403);
    const denials = (await h.items('PLATFORM#AUDIT')).slice(before).filter((x) => (x['metadata'] as Record<string, unknown>)['denied'] === true);
    expect(denials.map((d) => d['action'])).toEqual(['user.invite', 'user.update']);
  });

  it('FR-TENANT-004: a role change ends the user’s sessions (refresh fails, userinfo 401)', async () => {
    const session = (await login(a.domain, userEmail, PASSWORD))!;
    expect(await userinfoStatus(session)).toBe(200);
    const r = await api(h, 'PATCH', `/v1/tenants/${a.tenantId}/users/${userId}`, { token: admin.access_token, body: { role: 'Administrator' } });
    expect(r.body).toMatchObject({ role: 'Administrator' });
    expect(await userinfoStatus(session)).toBe(401);
    expect(await refreshStatus(session)).toBe(400);
    const audit = (await h.items(`TENANT#${a.tenantId}`)).find((x) => x['action'] === 'user.update' && x['resource'] === `user:${userId}`);
    expect(audit?.['metadata']).toMatchObject({ previous: { role: 'User' }, next: { role: 'Administrator' } });
  });

  it('FR-TENANT-006: disabling blocks sign-in; enabling lets the user back', async () => {
    const statusList = async (status: string): Promise<string[]> =>
      ((await api(h, 'GET', `/v1/tenants/${a.tenantId}/users?limit=100&status=${status}`, { token: admin.access_token })).body['items'] as { email: string }[]).map((u) => u.email);
    // Accepting the invitation moved the user from the Invited to the Active index (NFR-CAP-002).
    expect(await statusList('Active')).toContain(userEmail);
    expect(await statusList('Invited')).not.toContain(userEmail);
    await api(h, 'PATCH', `/v1/tenants/${a.tenantId}/users/${userId}`, { token: admin.access_token, body: { status: 'Disabled' } });
    expect(await login(a.domain, userEmail, PASSWORD)).toBeNull();
    expect(await statusList('Disabled')).toEqual([userEmail]);
    await api(h, 'PATCH', `/v1/tenants/${a.tenantId}/users/${userId}`, { token: admin.access_token, body: { status: 'Active' } });
    expect(await login(a.domain, userEmail, PASSWORD)).not.toBeNull();
    expect(await statusList('Disabled')).toEqual([]);
  });

  it('UC-TENANT-SESSION-REVOKE, FR-AUTH-005: an Administrator lists a user’s sessions and ends one, then all; the sessions say a tenant administrator ended them', async () => {
    const first = (await login(a.domain, userEmail, PASSWORD))!;
    const second = (await login(a.domain, userEmail, PASSWORD))!;
    const path = `/v1/tenants/${a.tenantId}/users/${userId}/sessions`;
    const listed = async () => (await api(h, 'GET', path, { token: admin.access_token })).body['items'] as { id: string; status: string; revokedReason: string | null }[];
    const firstSid = String(first.claims()?.['sid']);
    const secondSid = String(second.claims()?.['sid']);
    expect((await listed()).filter((x) => x.status === 'Active').map((x) => x.id)).toEqual(expect.arrayContaining([firstSid, secondSid]));

    expect(await api(h, 'DELETE', `${path}/${firstSid}`, { token: admin.access_token })).toMatchObject({ status: 200, body: { revoked: 1 } });
    expect(await refreshStatus(first)).toBe(400);
    expect(await userinfoStatus(second)).toBe(200);
    expect(await api(h, 'DELETE', path, { token: admin.access_token })).toMatchObject({ status: 200 });
    expect(await userinfoStatus(second)).toBe(401);
    expect(await refreshStatus(second)).toBe(400);
    const ended = (await listed()).filter((x) => x.id === firstSid || x.id === secondSid);
    expect(ended).toEqual([expect.objectContaining({ status: 'Revoked', revokedReason: 'revoked by tenant administrator' }), expect.objectContaining({ status: 'Revoked', revokedReason: 'revoked by tenant administrator' })]);
    const audit = await auditActions(a.tenantId);
    expect(audit).toEqual(expect.arrayContaining(['session.revoke:Success', 'session.revoke_all:Success']));
  });

  it('CON-SEC-002: reading personal data is audited (the user list, a user’s sessions): who, which, how many, never the data; a read that finds nothing leaves no record', async () => {
    const reads = async () => (await h.items(`TENANT#${a.tenantId}`)).filter((i) => i['entity'] === 'Audit' && (i['action'] === 'user.list' || i['action'] === 'user.sessions.list'));
    const before = new Set((await reads()).map((r) => String(r['SK'])));
    expect((await api(h, 'GET', `/v1/tenants/${a.tenantId}/users?limit=2`, { token: admin.access_token })).status).toBe(200);
    const sessions = await api(h, 'GET', `/v1/tenants/${a.tenantId}/users/${userId}/sessions`, { token: admin.access_token });
    expect(sessions.status).toBe(200);
    expect((await api(h, 'GET', `/v1/tenants/${a.tenantId}/users/${randomUUID()}/sessions`, { token: admin.access_token })).status).toBe(404);
    const added = (await reads()).filter((r) => !before.has(String(r['SK'])));
    expect(added.map((r) => `${String(r['action'])}:${String(r['outcome'])}:${String(r['resource'])}`).sort()).toEqual([`user.list:Success:tenant:${a.tenantId}`, `user.sessions.list:Success:user:${userId}`]);
    expect(added.find((r) => r['action'] === 'user.list')?.['metadata']).toMatchObject({ returned: 2 });
    expect(added.find((r) => r['action'] === 'user.sessions.list')?.['metadata']).toMatchObject({ returned: (sessions.body['items'] as unknown[]).length });
    for (const r of added) expect(r['actorId']).toBe(admin.claims()?.['sub']);
    expect(JSON.stringify(added)).not.toContain(userEmail);
  });

  it('FR-TENANT-004: nobody demotes, disables or deletes the last Owner', async () => {
    for (const [method, body] of [['PATCH', { role: 'Administrator' }], ['PATCH', { status: 'Disabled' }], ['DELETE', undefined]] as const) {
      const res = await api(h, method, `/v1/tenants/${a.tenantId}/users/${a.ownerId}`, { token: owner.access_token, ...(body ? { body } : {}) });
      expect(res.status).toBe(403);
    }
    expect(await login(a.domain, a.ownerEmail, OWNER_PASSWORD)).not.toBeNull();
  });

  it('FR-TENANT-007: resending an invitation kills the old link and mails a new one', async () => {
    const email = 'late@adm-a.example';
    const inv = await api(h, 'POST', `/v1/tenants/${a.tenantId}/invitations`, { token: owner.access_token, body: { email, role: 'User' } });
    const lateId = (inv.body['user'] as { id: string }).id;
    const first = (await latestMessage(h.dataDir, { to: email, kind: 'invitation' }))!.text.match(/https?:\/\/\S+token=\S+/)![0];
    const re = await api(h, 'POST', `/v1/tenants/${a.tenantId}/users/${lateId}/invitation`, { token: owner.access_token });
    expect(re).toMatchObject({ status: 200, body: { revoked: 1 } });
    expect((await new Browser().request(first)).status).toBe(404);
    await acceptLatestInvitation(email);
    expect(await login(a.domain, email, PASSWORD)).not.toBeNull();
  });

  it('FR-TENANT-002: deleting a user removes them from authentication and the list', async () => {
    const s = (await login(a.domain, userEmail, PASSWORD))!;
    const del = await api(h, 'DELETE', `/v1/tenants/${a.tenantId}/users/${userId}`, { token: owner.access_token });
    expect(del.status).toBe(200);
    expect(await userinfoStatus(s)).toBe(401);
    expect(await login(a.domain, userEmail, PASSWORD)).toBeNull();
    const list = await api(h, 'GET', `/v1/tenants/${a.tenantId}/users?limit=100`, { token: owner.access_token });
    expect((list.body['items'] as { email: string }[]).map((u) => u.email)).not.toContain(userEmail);
    expect(await h.items(`TENANT#${a.tenantId}`).then((items) => items.filter((i) => String(i['SK']).includes(userId) && i['entity'] !== 'Audit' && i['entity'] !== 'Session' && i['entity'] !== 'RefreshFamily' && i['entity'] !== 'AuthorizationCode'))).toEqual([]);
  });

  it('NFR-CAP-002: list with filters and cursors, sorted by email', async () => {
    for (let i = 0; i < 7; i++) await api(h, 'POST', `/v1/tenants/${a.tenantId}/invitations`, { token: owner.access_token, body: { email: `p${i}@adm-a.example`, role: 'User' } });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/v1/tenants/${a.tenantId}/users?limit=3&status=Invited&emailPrefix=p${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await api(h, 'GET', q, { token: admin.access_token });
      expect(page.status).toBe(200);
      seen.push(...(page.body['items'] as { email: string }[]).map((u) => u.email));
      cursor = page.body['nextCursor'] as string | null;
    } while (cursor);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `p${i}@adm-a.example`));
  });

  it('NFR-CAP-002: status and role filters read their own index entries, which follow invite, role change and delete', async () => {
    const email = 'idx-q@adm-a.example';
    const emailsOf = async (query: string): Promise<string[]> => {
      const page = await api(h, 'GET', `/v1/tenants/${a.tenantId}/users?limit=100&emailPrefix=idx-&${query}`, { token: admin.access_token });
      expect(page.status).toBe(200);
      return (page.body['items'] as { email: string }[]).map((u) => u.email);
    };
    const entries = async (): Promise<string[]> =>
      (await h.items(`TENANT#${a.tenantId}`))
        .filter((i) => i['entity'] === 'UserFilterEntry' && i['email'] === email)
        .map((i) => `${String(i['SK'])}|${String(i['role'])}|${String(i['status'])}`)
        .sort();

    const invited = await api(h, 'POST', `/v1/tenants/${a.tenantId}/invitations`, { token: owner.access_token, body: { email, role: 'User' } });
    expect(invited.status).toBe(201);
    const id = ((invited.body['user'] as { id?: string } | undefined)?.id ?? invited.body['userId']) as string;
    expect(await entries()).toEqual([`USERROLE#User#${email}|User|Invited`, `USERSTATUS#Invited#${email}|User|Invited`]);
    expect(await emailsOf('status=Invited')).toEqual([email]);
    expect(await emailsOf('role=User&status=Invited')).toEqual([email]);

    expect((await api(h, 'PATCH', `/v1/tenants/${a.tenantId}/users/${id}`, { token: owner.access_token, body: { role: 'Administrator' } })).status).toBe(200);
    expect(await entries()).toEqual([`USERROLE#Administrator#${email}|Administrator|Invited`, `USERSTATUS#Invited#${email}|Administrator|Invited`]);
    expect(await emailsOf('role=Administrator')).toEqual([email]);
    expect(await emailsOf('role=User')).toEqual([]);

    // An Invited user cannot be disabled (409); the combined filter reads one index and filters on the other.
    expect(await emailsOf('status=Invited&role=Administrator')).toEqual([email]);
    expect(await emailsOf('status=Active&role=Administrator')).toEqual([]);

    // A cursor belongs to the filter it came from.
    const byEmail = await api(h, 'GET', `/v1/tenants/${a.tenantId}/users?limit=1`, { token: admin.access_token });
    const cursor = byEmail.body['nextCursor'] as string;
    expect((await api(h, 'GET', `/v1/tenants/${a.tenantId}/users?limit=1&status=Invited&cursor=${cursor}`, { token: admin.access_token })).status).toBe(400);

    expect((await api(h, 'DELETE', `/v1/tenants/${a.tenantId}/users/${id}`, { token: owner.access_token })).status).toBe(200);
    expect(await entries()).toEqual([]);
    expect(await emailsOf('status=Invited')).toEqual([]);
  });

  it('FR-LOG-003: every change above left one audit record in the tenant’s log', async () => {
    const actions = await auditActions(a.tenantId);
    for (const expected of ['user.invite:Success', 'user.update:Success', 'user.invite.resend:Success', 'user.delete:Success', 'invitation.accept:Success', 'user.login:Success']) {
      expect(actions).toContain(expected);
    }
  });
});

describe('Tenant isolation (issue #4 acceptance)', () => {
  it("CON-SEC-007: tenant A's Owner cannot read or change tenant B through any tenant endpoint, and B's items are unchanged", async () => {
    const owner = (await login(a.domain, a.ownerEmail, OWNER_PASSWORD))!;
    const before = JSON.stringify(await h.items(`TENANT#${b.tenantId}`));
    const bUser = `/v1/tenants/${b.tenantId}/users/${b.ownerId}`;
    const calls: [string, string, unknown?][] = [
      ['GET', `/v1/tenants/${b.tenantId}`],
      ['GET', `/v1/tenants/${b.tenantId}/users`],
      ['POST', `/v1/tenants/${b.tenantId}/invitations`, { email: 'x@adm-b.example', role: 'User' }],
      ['POST', `${bUser}/invitation`],
      ['PATCH', bUser, { role: 'User' }],
      ['PATCH', bUser, { status: 'Disabled' }],
      ['DELETE', bUser],
      ['GET', `${bUser}/sessions`],
      ['DELETE', `${bUser}/sessions`],
      ['DELETE', `${bUser}/sessions/00000000-0000-4000-8000-000000000000`],
      // Platform-only endpoints are refused too.
      ['POST', `/v1/tenants/${b.tenantId}/suspend`, {}],
      ['POST', `/v1/tenants/${b.tenantId}/restore`],
      ['DELETE', `/v1/tenants/${b.tenantId}?confirm=${b.domain}`],
      ['PUT', `/v1/tenants/${b.tenantId}/apps/${app.clientId}`],
      ['GET', '/v1/tenants'],
    ];
    for (const [method, path, body] of calls) {
      const res = await api(h, method, path, { token: owner.access_token, ...(body !== undefined ? { body } : {}) });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: expect.toSatisfy((s: number) => s === 401 || s === 403) });
    }
    expect(JSON.stringify(await h.items(`TENANT#${b.tenantId}`))).toBe(before);
  });

  it('SC-002: a plain User of the tenant is refused tenant administration', async () => {
    const email = 'plain@adm-b.example';
    const ownerB = (await login(b.domain, b.ownerEmail, OWNER_PASSWORD))!;
    await api(h, 'POST', `/v1/tenants/${b.tenantId}/invitations`, { token: ownerB.access_token, body: { email, role: 'User' } });
    await acceptLatestInvitation(email);
    const user = (await login(b.domain, email, PASSWORD))!;
    const res = await api(h, 'GET', `/v1/tenants/${b.tenantId}/users`, { token: user.access_token });
    expect(res).toMatchObject({ status: 403, body: { code: 'ERR-AUTH-403' } });
  });
});

describe('Plan and settings (FR-TENANT-003, FR-AUTH-006)', () => {
  it('FR-TENANT-003: only an Owner changes the plan; plan flags follow and overrides survive', async () => {
    const ownerB = (await login(b.domain, b.ownerEmail, OWNER_PASSWORD))!;
    // An operator override (the flags API arrives with issue #5): written as the store would.
    const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
    await h.db.send(new PutCommand({ TableName: h.cp.tableName, Item: { PK: `TENANT#${b.tenantId}`, SK: 'FLAG#sso_enabled', entity: 'Flag', tenantId: b.tenantId, key: 'sso_enabled', value: true, source: 'override', updatedAt: new Date().toISOString() } }));
    const adminEmail = 'planadmin@adm-b.example';
    await api(h, 'POST', `/v1/tenants/${b.tenantId}/invitations`, { token: ownerB.access_token, body: { email: adminEmail, role: 'Administrator' } });
    await acceptLatestInvitation(adminEmail);
    const adminB = (await login(b.domain, adminEmail, PASSWORD))!;
    expect((await api(h, 'PUT', `/v1/tenants/${b.tenantId}/plan`, { token: adminB.access_token, body: { plan: 'Free' } })).status).toBe(403);

    const res = await api(h, 'PUT', `/v1/tenants/${b.tenantId}/plan`, { token: ownerB.access_token, body: { plan: 'Free' } });
    expect(res.status).toBe(200);
    const flags = Object.fromEntries((res.body['flags'] as { key: string; value: boolean; source: string }[]).map((f) => [f.key, `${String(f.value)}/${f.source}`]));
    expect(flags).toEqual({ ai_module_enabled: 'false/plan', audit_export_enabled: 'false/plan', advanced_analytics: 'false/plan', sso_enabled: 'true/override' });
    expect((await api(h, 'GET', `/v1/tenants/${b.tenantId}`, { token: ownerB.access_token })).body['plan']).toBe('Free');
    const audit = (await h.items(`TENANT#${b.tenantId}`)).find((x) => x['action'] === 'tenant.plan.update' && x['outcome'] === 'Success');
    expect(audit?.['metadata']).toMatchObject({ previous: 'Pro', next: 'Free' });
  });

  it('FR-AUTH-006: the tenant password policy and invitation expiry are applied to new invitations', async () => {
    const ownerB = (await login(b.domain, b.ownerEmail, OWNER_PASSWORD))!;
    const bad = await api(h, 'PATCH', `/v1/tenants/${b.tenantId}/settings`, { token: ownerB.access_token, body: { passwordPolicy: { minLength: 20, maxLength: 32 } } });
    expect(bad.status).toBe(400);
    const ok = await api(h, 'PATCH', `/v1/tenants/${b.tenantId}/settings`, { token: ownerB.access_token, body: { passwordPolicy: { minLength: 28, requireDigit: true }, invitationExpiryDays: 2 } });
    expect(ok.body).toMatchObject({ passwordPolicy: { minLength: 28, requireDigit: true }, invitationExpiryDays: 2 });
    const inv = await api(h, 'POST', `/v1/tenants/${b.tenantId}/invitations`, { token: ownerB.access_token, body: { email: 'strict@adm-b.example', role: 'User' } });
    const expiresIn = Date.parse((inv.body['invitation'] as { expiresAt: string }).expiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(47 * 3600_000);
    expect(expiresIn).toBeLessThan(49 * 3600_000);
    await expect(acceptLatestInvitation('strict@adm-b.example', PASSWORD)).rejects.toThrow(/422/);
    await acceptLatestInvitation('strict@adm-b.example', 'a-much-longer-passphrase-with-digit-7');
    expect(await login(b.domain, 'strict@adm-b.example', 'a-much-longer-passphrase-with-digit-7')).not.toBeNull();
  });
});

describe('Auditors (ACT-AUDIT, ADR-0007)', () => {
  it('SC-002: an auditor (IdP group cp-auditors) may read tenants but change nothing and manage no users', async () => {
    const auditor = await h.mintToken({ sub: 'dev-auditor-0001', email: 'auditor@example.com', groups: ['cp-auditors'] }, { expiresIn: '10m' });
    expect((await api(h, 'GET', `/v1/tenants/${a.tenantId}`, { token: auditor })).status).toBe(200);
    for (const [method, path, body] of [
      ['POST', `/v1/tenants/${a.tenantId}/suspend`, {}],
      ['GET', `/v1/tenants/${a.tenantId}/users`, undefined],
      ['POST', `/v1/tenants/${a.tenantId}/invitations`, { email: 'x@adm-a.example', role: 'User' }],
      ['PUT', `/v1/tenants/${a.tenantId}/plan`, { plan: 'Free' }],
      ['POST', '/v1/apps', { name: 'x', clientType: 'public', redirectUris: [REDIRECT] }],
    ] as const) {
      const res = await api(h, method, path, { token: auditor, ...(body ? { body } : {}) });
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
    }
    const operators = await h.items('PLATFORM#OPERATOR');
    expect(operators.some((o) => o['subject'] === 'dev-auditor-0001')).toBe(true);
  });
});
