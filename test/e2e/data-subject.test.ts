/**
 * CON-COMP-001 acceptance: a tenant's Owner answers a user's data subject requests — export (access and
 * portability), rectification of the email, erasure by pseudonymisation — every call audited
 * (FR-LOG-003), proved against the table, and refused across tenants.
 */
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latestMessage } from '../../shared/adapters/local/outbox-mailer';
import type { AuditRecord } from '../../shared/domain/audit';
import { exportedAuditRecord, pseudonym, pseudonymiseAuditRecord } from '../../shared/domain/data-subject';
import { Browser, hiddenFields } from '../support/browser';
import { api, startHarness, type Harness } from '../support/harness';
import { enableApp, OWNER_PASSWORD, registerApp, signIn, tenantWithOwner, type RegisteredApp, type TenantWithOwner } from '../support/identity';

const REDIRECT = 'http://127.0.0.1:8979/callback';
const PASSWORD = 'lantern-orchard-pebble-7734';
const FIRST_EMAIL = 'subject@dsr-a.example';
const SECOND_EMAIL = 'renamed.subject@dsr-a.example';

type Tokens = oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
type Item = Record<string, unknown>;

let h: Harness;
let app: RegisteredApp;
let a: TenantWithOwner;
let b: TenantWithOwner;
let ownerA: Tokens;
let ownerB: Tokens;
let userId: string;
let userSession: Tokens;

async function login(tenantDomain: string, email: string, password: string): Promise<Tokens | null> {
  const c = await oidc.discovery(new URL(h.cp.apiUrl), app.clientId, app.clientSecret, oidc.ClientSecretBasic(app.clientSecret!), { execute: [oidc.allowInsecureRequests] });
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(c, { redirect_uri: REDIRECT, scope: 'openid email offline_access', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', tenant: tenantDomain });
  const r = await signIn(new Browser(), url.href, { email, password });
  return r.callback ? oidc.authorizationCodeGrant(c, new URL(r.callback), { pkceCodeVerifier: verifier }) : null;
}

async function acceptLatestInvitation(email: string): Promise<void> {
  const mail = await latestMessage(h.dataDir, { to: email, kind: 'invitation' });
  const link = mail?.text.match(/https?:\/\/\S+\/invitations\/accept\?token=\S+/)?.[0];
  if (!link) throw new Error(`no invitation for ${email}`);
  const br = new Browser();
  const page = await br.request(link);
  const res = await br.request(h.url('/invitations/accept'), { form: { ...hiddenFields(page.body), password: PASSWORD } });
  if (res.status !== 200) throw new Error(`accept failed ${res.status}`);
}

async function requestPasswordReset(tenantDomain: string, email: string): Promise<void> {
  const br = new Browser();
  const page = await br.request(h.url('/password/forgot'));
  const res = await br.request(h.url('/password/forgot'), { form: { ...hiddenFields(page.body), tenant: tenantDomain, email } });
  if (res.status !== 200) throw new Error(`reset request failed ${res.status}`);
}

const userPath = (tenantId: string, id: string): string => `/v1/tenants/${tenantId}/users/${id}`;
const tenantItems = (): Promise<Item[]> => h.items(`TENANT#${a.tenantId}`);
const isAboutUser = (i: Item): boolean => i['actorId'] === userId || i['resource'] === `user:${userId}`;

/** Every (path, value) in a JSON document, for "no key like this holds a value" checks. */
function entries(v: unknown, path = ''): [string, unknown][] {
  if (Array.isArray(v)) return v.flatMap((x, i) => entries(x, `${path}/${i}`));
  if (v !== null && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => [[`${path}/${k}`, x] as [string, unknown], ...entries(x, `${path}/${k}`)]);
  return [];
}

beforeAll(async () => {
  h = await startHarness();
  app = await registerApp(h, { name: 'DSR App', clientType: 'confidential', redirectUris: [REDIRECT] });
  a = await tenantWithOwner(h, 'dsr-a', h.dataDir);
  b = await tenantWithOwner(h, 'dsr-b', h.dataDir);
  await enableApp(h, a.tenantId, app.clientId);
  await enableApp(h, b.tenantId, app.clientId);
  ownerA = (await login(a.domain, a.ownerEmail, OWNER_PASSWORD))!;
  ownerB = (await login(b.domain, b.ownerEmail, OWNER_PASSWORD))!;
  // The data subject: invited, accepted, signed in (session, refresh family, audit records with an IP),
  // and a pending password reset.
  const inv = await api(h, 'POST', `/v1/tenants/${a.tenantId}/invitations`, { token: ownerA.access_token, body: { email: FIRST_EMAIL, role: 'User' } });
  if (inv.status !== 201) throw new Error(`invite failed: ${JSON.stringify(inv.body)}`);
  userId = (inv.body['user'] as { id: string }).id;
  await acceptLatestInvitation(FIRST_EMAIL);
  userSession = (await login(a.domain, FIRST_EMAIL, PASSWORD))!;
  await requestPasswordReset(a.domain, FIRST_EMAIL);
});

afterAll(async () => {
  await h?.stop();
});

describe('CON-COMP-001 data subject rights of tenant users', () => {
  it('CON-COMP-001 (access, portability): the export holds every section of the user, as an attachment, with no hash or secret', async () => {
    const res = await api(h, 'GET', `${userPath(a.tenantId, userId)}/export`, { token: ownerA.access_token });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="user-${userId}.json"`);
    const doc = res.body;
    expect(doc).toMatchObject({ format: 'user-data-export/1', tenantId: a.tenantId, profile: { id: userId, tenantId: a.tenantId, email: FIRST_EMAIL, role: 'User', status: 'Active' } });
    expect(Date.parse(String(doc['exportedAt']))).not.toBeNaN();
    expect(typeof (doc['profile'] as Item)['passwordChangedAt']).toBe('string');

    const sessions = doc['sessions'] as Item[];
    const families = doc['refreshFamilies'] as Item[];
    expect(sessions.length).toBeGreaterThanOrEqual(1);
    expect(sessions[0]).toMatchObject({ status: 'Active', ip: expect.any(String) });
    expect(families).toEqual([expect.objectContaining({ clientId: app.clientId, status: 'Active', sessionId: sessions[0]!['id'] })]);
    expect(doc['invitations']).toEqual([expect.objectContaining({ email: FIRST_EMAIL, role: 'User', status: 'Accepted' })]);
    expect(doc['passwordResets']).toEqual([expect.objectContaining({ status: 'Pending' })]);
    const actions = (doc['auditRecords'] as Item[]).map((r) => r['action']);
    for (const expected of ['user.invite', 'invitation.accept', 'user.login', 'user.password.reset.request']) expect(actions).toContain(expected);

    // No key that names a hash, secret or token carries a value, and no stored hash appears anywhere.
    const leaking = entries(doc).filter(([path, v]) => /hash|secret|token/i.test(path.split('/').pop()!) && v !== null && v !== undefined);
    expect(leaking).toEqual([]);
    const text = JSON.stringify(doc);
    const items = await tenantItems();
    const stored = items.filter((i) => String(i['SK']).startsWith(`USER#${userId}`) || i['userId'] === userId);
    const hashes = stored.flatMap((i) => [i['passwordHash'], i['secretHash'], i['currentHash'], i['tokenHash']]).filter((x): x is string => typeof x === 'string');
    expect(hashes.length).toBeGreaterThanOrEqual(4); // password, session, family, invitation (+ reset)
    for (const hash of hashes) expect(text).not.toContain(hash);

    // Art. 15(4): the Owner's connection details in the invite record are the Owner's, not the subject's.
    const invite = (doc['auditRecords'] as Item[]).find((r) => r['action'] === 'user.invite')!;
    expect(invite['actorId']).toBe(a.ownerId);
    expect(invite['metadata']).not.toHaveProperty('ip');
    expect(invite['metadata']).toMatchObject({ email: FIRST_EMAIL });
    const ownLogin = (doc['auditRecords'] as Item[]).find((r) => r['action'] === 'user.login')!;
    expect(ownLogin['metadata']).toHaveProperty('ip');
  });

  it("CON-SEC-007: an Owner of another tenant gets 403 on export, rectification and erasure, and the tenant's items are unchanged", async () => {
    const before = JSON.stringify(await tenantItems());
    const calls: [string, string, unknown?][] = [
      ['GET', `${userPath(a.tenantId, userId)}/export`],
      ['PATCH', `${userPath(a.tenantId, userId)}/profile`, { email: 'stolen@dsr-b.example' }],
      ['POST', `${userPath(a.tenantId, userId)}/erase`, { confirm: FIRST_EMAIL }],
    ];
    for (const [method, path, body] of calls) {
      const res = await api(h, method, path, { token: ownerB.access_token, ...(body !== undefined ? { body } : {}) });
      expect({ method, status: res.status, code: res.body['code'] }).toEqual({ method, status: 403, code: 'ERR-AUTH-403' });
    }
    // The data subject themselves (role User) has no administrative rights either.
    expect((await api(h, 'GET', `${userPath(a.tenantId, userId)}/export`, { token: userSession.access_token })).status).toBe(403);
    expect(JSON.stringify(await tenantItems())).toBe(before);
  });

  it('CON-COMP-001 (rectification): the email changes atomically, the old one stops signing in, sessions end; a taken email is 409', async () => {
    expect((await fetch(h.url('/userinfo'), { headers: { authorization: `Bearer ${userSession.access_token}` } })).status).toBe(200);
    const bad = await api(h, 'PATCH', `${userPath(a.tenantId, userId)}/profile`, { token: ownerA.access_token, body: { email: 'not an address' } });
    expect(bad.status).toBe(400);
    const taken = await api(h, 'PATCH', `${userPath(a.tenantId, userId)}/profile`, { token: ownerA.access_token, body: { email: a.ownerEmail } });
    expect(taken).toMatchObject({ status: 409, body: { code: 'ERR-VAL-409' } });

    const res = await api(h, 'PATCH', `${userPath(a.tenantId, userId)}/profile`, { token: ownerA.access_token, body: { email: SECOND_EMAIL.toUpperCase() } });
    expect(res).toMatchObject({ status: 200, body: { changed: true, user: { id: userId, email: SECOND_EMAIL } } });
    expect(res.body['sessionsEnded']).toBeGreaterThanOrEqual(1);
    expect((await fetch(h.url('/userinfo'), { headers: { authorization: `Bearer ${userSession.access_token}` } })).status).toBe(401);

    expect(await login(a.domain, FIRST_EMAIL, PASSWORD)).toBeNull();
    const again = await login(a.domain, SECOND_EMAIL, PASSWORD);
    expect(again?.claims()?.['email']).toBe(SECOND_EMAIL);

    const items = await tenantItems();
    expect(items.find((i) => i['SK'] === `USEREMAIL#${FIRST_EMAIL}`)).toBeUndefined();
    expect(items.find((i) => i['SK'] === `USEREMAIL#${SECOND_EMAIL}`)).toMatchObject({ userId, email: SECOND_EMAIL, status: 'Active' });
    // The status and role index entries follow the address (NFR-CAP-002).
    expect(items.filter((i) => i['entity'] === 'UserFilterEntry' && i['userId'] === userId).map((i) => String(i['SK'])).sort()).toEqual([`USERROLE#User#${SECOND_EMAIL}`, `USERSTATUS#Active#${SECOND_EMAIL}`]);
    expect(items.filter((i) => i['entity'] === 'Invitation' && i['userId'] === userId).map((i) => i['email'])).toEqual([SECOND_EMAIL]);
  });

  it('CON-COMP-001 (erasure): refused without confirmation (422) and for the last Owner (403)', async () => {
    for (const body of [{}, { confirm: FIRST_EMAIL }, { confirm: 'someone@dsr-a.example' }]) {
      const res = await api(h, 'POST', `${userPath(a.tenantId, userId)}/erase`, { token: ownerA.access_token, body });
      expect(res).toMatchObject({ status: 422, body: { code: 'ERR-VAL-422' } });
      expect(JSON.stringify(res.body)).not.toContain('@');
    }
    const lastOwner = await api(h, 'POST', `${userPath(a.tenantId, a.ownerId)}/erase`, { token: ownerA.access_token, body: { confirm: a.ownerEmail } });
    expect(lastOwner).toMatchObject({ status: 403, body: { code: 'ERR-AUTH-403' } });
    // Nothing happened to either of them.
    expect(await login(a.domain, SECOND_EMAIL, PASSWORD)).not.toBeNull();
    expect(await login(a.domain, a.ownerEmail, OWNER_PASSWORD)).not.toBeNull();
  });

  it('CON-COMP-001 (erasure): the user is pseudonymised — no item of theirs but the tombstone and scrubbed audit records, no address or IP left', async () => {
    expect(await login(a.domain, SECOND_EMAIL, 'wrong-password-entirely-1')).toBeNull(); // a failure record about the user, with an IP
    const ip = String((await tenantItems()).find((i) => i['entity'] === 'Session' && i['userId'] === userId)?.['ip']);
    expect((await tenantItems()).filter((i) => i['entity'] === 'Audit' && isAboutUser(i) && JSON.stringify(i).includes(ip)).length).toBeGreaterThan(0);

    const res = await api(h, 'POST', `${userPath(a.tenantId, userId)}/erase`, { token: ownerA.access_token, body: { confirm: ` ${SECOND_EMAIL.toUpperCase()} ` } });
    expect(res).toMatchObject({ status: 200, body: { erased: true, userId, pseudonymId: expect.stringMatching(/^[0-9a-f-]{36}$/) } });
    const removed = res.body['removed'] as Record<string, number>;
    expect(removed['sessions']).toBeGreaterThanOrEqual(2);
    expect(removed['refreshFamilies']).toBeGreaterThanOrEqual(2);
    expect(removed).toMatchObject({ invitations: 1, resets: 1 });

    // Gone from authentication and from every read, with a message that says why.
    expect(await login(a.domain, SECOND_EMAIL, PASSWORD)).toBeNull();
    const exp = await api(h, 'GET', `${userPath(a.tenantId, userId)}/export`, { token: ownerA.access_token });
    expect(exp).toMatchObject({ status: 404, body: { code: 'ERR-RES-404', detail: expect.stringMatching(/erased/) } });
    expect((await api(h, 'PATCH', `${userPath(a.tenantId, userId)}/profile`, { token: ownerA.access_token, body: { email: 'back@dsr-a.example' } })).status).toBe(404);
    expect((await api(h, 'POST', `${userPath(a.tenantId, userId)}/erase`, { token: ownerA.access_token, body: { confirm: SECOND_EMAIL } })).status).toBe(404);
    const list = await api(h, 'GET', `/v1/tenants/${a.tenantId}/users?limit=100`, { token: ownerA.access_token });
    expect((list.body['items'] as Item[]).map((u) => u['id'])).not.toContain(userId);

    const items = await tenantItems();
    // Only the tombstone and audit records still name the user's id.
    const naming = items.filter((i) => JSON.stringify(i).includes(userId));
    expect([...new Set(naming.map((i) => i['entity']))].sort()).toEqual(['Audit', 'ErasedUser']);
    const tombstone = naming.find((i) => i['entity'] === 'ErasedUser')!;
    expect(tombstone).toMatchObject({ SK: `ERASED#${userId}`, userId, pseudonymId: res.body['pseudonymId'], erasedAt: expect.any(String) });
    expect(JSON.stringify(tombstone)).not.toContain('@');

    // No item of the tenant holds either address of the user, whatever its kind.
    const all = JSON.stringify(items).toLowerCase();
    expect(all).not.toContain(FIRST_EMAIL);
    expect(all).not.toContain(SECOND_EMAIL);

    // Records about the user keep actor and resource, are marked, and hold no IP or user agent — except the
    // erasure's own record, whose origin is the Owner's who erased.
    const about = items.filter((i) => i['entity'] === 'Audit' && isAboutUser(i));
    const scrubbed = about.filter((i) => i['action'] !== 'user.data.erase');
    expect(scrubbed.length).toBeGreaterThanOrEqual(6);
    for (const r of scrubbed) {
      const m = r['metadata'] as Item;
      expect({ action: r['action'], erased: m['erased'], ip: m['ip'], userAgent: m['userAgent'], email: m['email'] }).toEqual({ action: r['action'], erased: true, ip: undefined, userAgent: undefined, email: undefined });
      expect(JSON.stringify(r)).not.toContain(ip);
    }
    const erasure = about.find((i) => i['action'] === 'user.data.erase')!;
    expect(erasure).toMatchObject({ actorId: a.ownerId, outcome: 'Success', resource: `user:${userId}`, metadata: { pseudonymId: res.body['pseudonymId'] } });
  });

  it('FR-LOG-003: every data subject request is audited — successes in the tenant log, refusals in the platform log', async () => {
    const actions = (await tenantItems()).filter((i) => i['entity'] === 'Audit').map((i) => `${String(i['action'])}:${String(i['outcome'])}`);
    for (const expected of ['user.data.export:Success', 'user.data.rectify:Success', 'user.data.erase:Success']) expect(actions).toContain(expected);
    const rectified = (await tenantItems()).find((i) => i['action'] === 'user.data.rectify');
    expect(rectified?.['metadata']).toMatchObject({ fields: ['email'], erased: true });

    const platform = await h.items('PLATFORM#AUDIT');
    const denials = platform.filter((x) => (x['metadata'] as Item)['denied'] === true && String(x['action']).startsWith('user.data.'));
    expect(new Set(denials.map((d) => d['action']))).toEqual(new Set(['user.data.export', 'user.data.rectify', 'user.data.erase']));
    const refusals = platform.filter((x) => x['action'] === 'user.data.erase' && (x['metadata'] as Item)['code'] === 'ERR-VAL-422');
    expect(refusals).toHaveLength(3);
    // A refusal's record never echoes the address that was (or was not) confirmed.
    for (const r of refusals) expect(JSON.stringify(r)).not.toContain('@');
  });
});

/*
 * The rewrite rules on records the journey above cannot produce (a tenant user acting on someone else, an
 * address inside unrelated metadata). Pure functions, so no harness.
 */
describe('CON-COMP-001 pseudonymisation and export rules', () => {
  const subject = { id: 'u-1', email: 'ana@x.example' };
  const record = (over: Partial<AuditRecord>): AuditRecord => ({
    id: 'r',
    timestamp: '2026-01-01T00:00:00.000Z',
    tenantId: 't',
    actorId: 'someone',
    actorType: 'User',
    action: 'x',
    resource: 'tenant:t',
    outcome: 'Success',
    metadata: { ip: '10.0.0.1', userAgent: 'ua', requestId: 'q' },
    ...over,
  });

  it('CON-COMP-001: as actor on another user, the subject loses their origin; the other person keeps their address', () => {
    const r = record({ actorId: 'u-1', resource: 'user:u-2', metadata: { ip: '10.0.0.1', userAgent: 'ua', email: 'bo@x.example', role: 'User' } });
    expect(pseudonymiseAuditRecord(r, subject, 'p')).toEqual({ email: 'bo@x.example', role: 'User', erased: true });
  });

  it('CON-COMP-001: an address anywhere else becomes the pseudonym, case-insensitively and inside longer strings; other records are untouched', () => {
    const r = record({ metadata: { ip: '10.0.0.1', note: 'sent to ANA@x.example today', nested: { list: ['ana@x.example'] } } });
    expect(pseudonymiseAuditRecord(r, subject, 'p')).toEqual({ ip: '10.0.0.1', note: `sent to ${pseudonym('p')} today`, nested: { list: [pseudonym('p')] }, erased: true });
    expect(pseudonymiseAuditRecord(record({}), subject, 'p')).toBeUndefined();
  });

  it('CON-COMP-001: the rewrite is idempotent, so a retried erasure changes nothing twice', () => {
    const r = record({ resource: 'user:u-1', metadata: { ip: '10.0.0.1', previous: { email: 'ana@x.example' } } });
    const once = pseudonymiseAuditRecord(r, subject, 'p')!;
    expect(once).toEqual({ previous: {}, erased: true });
    expect(pseudonymiseAuditRecord({ ...r, metadata: once }, subject, 'p')).toBeUndefined();
  });

  it("CON-COMP-001 (Art. 15(4)): an export leaves out other people's origin and addresses", () => {
    const acted = exportedAuditRecord(record({ actorId: 'u-1', resource: 'user:u-2', metadata: { ip: '1', email: 'bo@x.example' } }), 'u-1');
    expect(acted.metadata).toEqual({ ip: '1' });
    const actedOn = exportedAuditRecord(record({ resource: 'user:u-1', metadata: { ip: '2', email: 'ana@x.example' } }), 'u-1');
    expect(actedOn.metadata).toEqual({ email: 'ana@x.example' });
  });
});
