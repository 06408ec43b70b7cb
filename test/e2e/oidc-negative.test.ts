/**
 * Issue #3 negative cases, each named. Raw HTTP so that every parameter is under the test's control.
 * RFC 6749, RFC 7636, RFC 9700 (OAuth security BCP), OIDC Core.
 */
import { randomUUID } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness';
import { Browser } from '../support/browser';
import { authorizeUrl as authorizeUrlFor, enableApp, OWNER_PASSWORD, registerApp, signIn, tenantWithOwner, type RegisteredApp, type TenantWithOwner } from '../support/identity';

const REDIRECT = 'https://app.example.com/callback';
const VERIFIER = 'v'.repeat(20) + 'erifier-0123456789-abcdefghijklmnop';
let h: Harness;
let tenant: TenantWithOwner;
let app: RegisteredApp;
let other: RegisteredApp;

beforeAll(async () => {
  h = await startHarness();
  tenant = await tenantWithOwner(h, 'neg-acme', h.dataDir);
  app = await registerApp(h, { name: 'Main', clientType: 'confidential', redirectUris: [REDIRECT] });
  other = await registerApp(h, { name: 'Other', clientType: 'confidential', redirectUris: ['https://other.example.com/cb'] });
  await enableApp(h, tenant.tenantId, app.clientId);
  await enableApp(h, tenant.tenantId, other.clientId);
});
afterAll(async () => {
  await h?.stop();
});

function authorizeUrl(params: Record<string, string | undefined>): string {
  return authorizeUrlFor(h, VERIFIER, { client_id: app.clientId, redirect_uri: REDIRECT, scope: 'openid offline_access', state: 'st-1', tenant: tenant.domain, ...params });
}

async function code(params: Record<string, string | undefined> = {}): Promise<string> {
  const r = await signIn(new Browser(), authorizeUrl(params), { email: tenant.ownerEmail, password: OWNER_PASSWORD });
  const c = r.callback ? new URL(r.callback).searchParams.get('code') : null;
  if (!c) throw new Error(`no code: ${r.status} ${r.body.slice(0, 200)}`);
  return c;
}

async function token(form: Record<string, string | undefined>, client: RegisteredApp = app): Promise<{ status: number; body: Record<string, string> }> {
  const body = new URLSearchParams(Object.entries(form).filter((e): e is [string, string] => e[1] !== undefined));
  const res = await fetch(h.url('/token'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}` },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

const exchange = (c: string, extra: Record<string, string | undefined> = {}) => token({ grant_type: 'authorization_code', code: c, redirect_uri: REDIRECT, code_verifier: VERIFIER, ...extra });

async function userinfo(accessToken: string): Promise<number> {
  return (await fetch(h.url('/userinfo'), { headers: { authorization: `Bearer ${accessToken}` } })).status;
}

async function introspect(t: string): Promise<boolean> {
  const res = await fetch(h.url('/introspect'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64')}` },
    body: new URLSearchParams({ token: t }),
  });
  return ((await res.json()) as { active: boolean }).active;
}

describe('Authorization codes', () => {
  it('RFC 6749 §4.1.2: code reuse fails with invalid_grant and revokes what the first redemption issued', async () => {
    const c = await code();
    const first = await exchange(c);
    expect(first.status).toBe(200);
    expect(await userinfo(first.body['access_token']!)).toBe(200);
    const second = await exchange(c);
    expect(second).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await userinfo(first.body['access_token']!)).toBe(401);
    expect(await introspect(first.body['access_token']!)).toBe(false);
    expect((await token({ grant_type: 'refresh_token', refresh_token: first.body['refresh_token'] })).body['error']).toBe('invalid_grant');
  });

  it('FR-AUTH-001: an expired code is refused (clock moved past the 60 s lifetime)', async () => {
    const c = await code();
    const items = await h.items(`TENANT#${tenant.tenantId}`);
    const item = items.find((i) => i['entity'] === 'AuthorizationCode' && i['status'] === 'Unused');
    await h.db.send(new UpdateCommand({ TableName: h.cp.tableName, Key: { PK: item!['PK'], SK: item!['SK'] }, UpdateExpression: 'SET expiresAt = :p', ExpressionAttributeValues: { ':p': new Date(Date.now() - 1000).toISOString() } }));
    expect(await exchange(c)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it("RFC 6749 §4.1.3: another client's code is refused", async () => {
    const c = await code();
    const res = await token({ grant_type: 'authorization_code', code: c, redirect_uri: REDIRECT, code_verifier: VERIFIER }, other);
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('RFC 6749 §4.1.3: a different redirect_uri at the token endpoint is refused', async () => {
    expect(await exchange(await code(), { redirect_uri: `${REDIRECT}/` })).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });
});

describe('PKCE (RFC 7636, S256 required for every client)', () => {
  it('RFC 7636: a request without code_challenge is refused back to the client', async () => {
    const res = await new Browser().request(authorizeUrl({ code_challenge: undefined, code_challenge_method: undefined }));
    const u = new URL(res.location!);
    expect(u.origin + u.pathname).toBe(REDIRECT);
    expect(u.searchParams.get('error')).toBe('invalid_request');
    expect(u.searchParams.get('state')).toBe('st-1');
  });

  it('RFC 7636: the plain method is refused', async () => {
    const res = await new Browser().request(authorizeUrl({ code_challenge: VERIFIER.slice(0, 43), code_challenge_method: 'plain' }));
    expect(new URL(res.location!).searchParams.get('error')).toBe('invalid_request');
  });

  it('RFC 7636: a wrong code_verifier is refused, and the code is burnt', async () => {
    const c = await code();
    expect(await exchange(c, { code_verifier: 'w'.repeat(43) })).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect((await exchange(c)).status).toBe(400);
  });

  it('RFC 9700 §4.8: PKCE downgrade — a token request without code_verifier is refused', async () => {
    expect(await exchange(await code(), { code_verifier: undefined })).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });
});

describe('Redirect URIs: exact match, never a redirect to an unregistered URI (RFC 9700 §4.1)', () => {
  for (const [name, uri] of [
    ['trailing slash', `${REDIRECT}/`],
    ['case', 'https://APP.example.com/callback'],
    ['extra query', `${REDIRECT}?next=/admin`],
    ['path suffix', `${REDIRECT}/../evil`],
    ['other host', 'https://evil.example/callback'],
  ] as const) {
    it(`RFC 9700: ${name} variant shows an error page and does not redirect`, async () => {
      const res = await new Browser().request(authorizeUrl({ redirect_uri: uri }));
      expect(res.status).toBe(400);
      expect(res.location).toBeNull();
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.body).toContain('Invalid redirect URI');
    });
  }

  it('RFC 6749 §4.1.2.1: an unknown client shows an error page and does not redirect', async () => {
    const res = await new Browser().request(authorizeUrl({ client_id: '00000000-0000-4000-8000-000000000000' }));
    expect(res.status).toBe(400);
    expect(res.location).toBeNull();
  });

  it('OIDC Core §3.1.2.2: response_type=token is refused (implicit flow not supported)', async () => {
    const res = await new Browser().request(authorizeUrl({ response_type: 'token' }));
    expect(new URL(res.location!).searchParams.get('error')).toBe('unsupported_response_type');
  });

  it('RFC 6749 §3.1: repeated parameters are refused', async () => {
    const res = await new Browser().request(`${authorizeUrl({})}&scope=openid`);
    expect(res.status).toBe(400);
    expect(res.location).toBeNull();
  });
});

describe('Refresh tokens', () => {
  it('RFC 9700 §4.14.2: replaying a rotated refresh token revokes the whole family', async () => {
    const first = await exchange(await code());
    const r1 = await token({ grant_type: 'refresh_token', refresh_token: first.body['refresh_token'] });
    expect(r1.status).toBe(200);
    const replay = await token({ grant_type: 'refresh_token', refresh_token: first.body['refresh_token'] });
    expect(replay.body['error']).toBe('invalid_grant');
    // The legitimate holder's newer token dies with the family.
    expect((await token({ grant_type: 'refresh_token', refresh_token: r1.body['refresh_token'] })).body['error']).toBe('invalid_grant');
    expect(await introspect(r1.body['access_token']!)).toBe(false);
    const audit = (await h.items('PLATFORM#AUDIT')).filter((a) => a['action'] === 'oauth.token' && String((a['metadata'] as Record<string, unknown>)['reason']).includes('reuse'));
    expect(audit.length).toBeGreaterThanOrEqual(1);
  });

  it('RFC 9700 §4.14.2: reuse is detected for the last 20 rotated tokens; an older one is refused without revoking the family', async () => {
    // The family keeps the hashes of its last 20 rotated tokens (a 1 KB item, one or two write units per
    // rotation); a token older than that cannot be told from a forgery, so it is refused, nothing more.
    const own = await tenantWithOwner(h, 'neg-reuse-window', h.dataDir);
    await enableApp(h, own.tenantId, app.clientId);
    const signedIn = await signIn(new Browser(), authorizeUrl({ tenant: own.domain }), { email: own.ownerEmail, password: OWNER_PASSWORD });
    const issued = [(await exchange(new URL(signedIn.callback!).searchParams.get('code')!)).body['refresh_token']!];
    for (let i = 1; i <= 21; i++) {
      const r = await token({ grant_type: 'refresh_token', refresh_token: issued[i - 1] });
      expect(r.status).toBe(200);
      issued.push(r.body['refresh_token']!);
    }
    // Refused grants are filed in the platform partition; only the ones after this point are this test's.
    const refusals = async (): Promise<Record<string, unknown>[]> => (await h.items('PLATFORM#AUDIT')).filter((a) => a['action'] === 'oauth.token');
    const before = new Set((await refusals()).map((a) => String(a['SK'])));
    const reasons = async (): Promise<string[]> =>
      (await refusals()).filter((a) => !before.has(String(a['SK']))).map((a) => String((a['metadata'] as Record<string, unknown>)['reason']));

    // issued[0] was rotated 21 rotations ago: refused, and the current token still works.
    expect((await token({ grant_type: 'refresh_token', refresh_token: issued[0] })).body['error']).toBe('invalid_grant');
    expect(await introspect(issued[21]!)).toBe(true);
    const next = await token({ grant_type: 'refresh_token', refresh_token: issued[21] });
    expect(next.status).toBe(200);
    expect(await reasons()).toEqual(['unknown refresh token']);

    // issued[3] is among the last 20: its replay revokes the family, the newest token included.
    expect((await token({ grant_type: 'refresh_token', refresh_token: issued[3] })).body['error']).toBe('invalid_grant');
    expect((await token({ grant_type: 'refresh_token', refresh_token: next.body['refresh_token'] })).body['error']).toBe('invalid_grant');
    expect(await introspect(next.body['access_token']!)).toBe(false);
    expect(await reasons()).toContain('refresh token reuse: family revoked');
  });

  it("RFC 6749 §6: another client's refresh token is refused", async () => {
    const first = await exchange(await code());
    expect((await token({ grant_type: 'refresh_token', refresh_token: first.body['refresh_token'] }, other)).body['error']).toBe('invalid_grant');
  });

  it('FR-AUTH-005: a refresh token names its session; an altered session id is refused, a token without one (issued earlier) still works', async () => {
    // Its own tenant: the Owner of the main one is at its sign-in throttle (10 per 15 min) in this file.
    const own = await tenantWithOwner(h, 'neg-session-ids', h.dataDir);
    await enableApp(h, own.tenantId, app.clientId);
    const signedIn = await signIn(new Browser(), authorizeUrl({ tenant: own.domain }), { email: own.ownerEmail, password: OWNER_PASSWORD });
    const first = await exchange(new URL(signedIn.callback!).searchParams.get('code')!);
    const rt = first.body['refresh_token']!;
    const segs = rt.slice('cprt_'.length).split('.');
    expect(segs).toHaveLength(5); // tenant, user, family, session, secret
    const forged = `cprt_${[...segs.slice(0, 3), Buffer.from(randomUUID()).toString('base64url'), segs[4]].join('.')}`;
    expect((await token({ grant_type: 'refresh_token', refresh_token: forged })).body['error']).toBe('invalid_grant');
    expect(await introspect(forged)).toBe(false);
    expect(await introspect(rt)).toBe(true);
    // The format before tokens named their session: tenant, user, family, secret.
    const legacy = `cprt_${[...segs.slice(0, 3), segs[4]].join('.')}`;
    expect(await introspect(legacy)).toBe(true);
    const r = await token({ grant_type: 'refresh_token', refresh_token: legacy });
    expect(r.status).toBe(200);
    expect(r.body['refresh_token']!.slice('cprt_'.length).split('.')).toHaveLength(5);
    expect((await token({ grant_type: 'refresh_token', refresh_token: legacy })).body['error']).toBe('invalid_grant');
  });

  it('RFC 9700: two concurrent refreshes with one token — at most one wins', async () => {
    const first = await exchange(await code());
    const results = await Promise.all([1, 2, 3, 4].map(() => token({ grant_type: 'refresh_token', refresh_token: first.body['refresh_token'] })));
    expect(results.filter((r) => r.status === 200).length).toBe(1);
    expect(results.filter((r) => r.status === 400).every((r) => r.body['error'] === 'invalid_grant')).toBe(true);
  });
});

describe('Sessions and revocation (FR-AUTH-005)', () => {
  it('FR-AUTH-005: a revoked session makes userinfo answer 401 and introspection inactive at once', async () => {
    const browser = new Browser();
    const r = await signIn(browser, authorizeUrl({}), { email: tenant.ownerEmail, password: OWNER_PASSWORD });
    const tokens = await exchange(new URL(r.callback!).searchParams.get('code')!);
    expect(await userinfo(tokens.body['access_token']!)).toBe(200);
    const out = await browser.request(`${h.url('/logout')}?id_token_hint=${tokens.body['id_token']!}`);
    expect(out.status).toBe(200);
    expect(out.body).toContain('You have been signed out.');
    expect(await userinfo(tokens.body['access_token']!)).toBe(401);
    expect(await introspect(tokens.body['access_token']!)).toBe(false);
    expect(await introspect(tokens.body['refresh_token']!)).toBe(false);
  });

  it('ERR-AUTH-401: the token endpoint refuses a wrong client secret with invalid_client and Basic challenge', async () => {
    const res = await fetch(h.url('/token'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${app.clientId}:cps_wrong`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(await res.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('CON-SEC-009: malformed token requests get the OAuth error format, never a stack trace', async () => {
    const res = await fetch(h.url('/token'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"grant_type":' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body['error']).toBe('invalid_request');
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts|Error:/);
  });
});

describe('Session timeouts (FR-AUTH-005: idle and absolute)', () => {
  // Its own tenant: the Owner of the main one is at its sign-in throttle (10 per 15 min) in this file.
  let own: TenantWithOwner;
  beforeAll(async () => {
    own = await tenantWithOwner(h, 'neg-timeouts', h.dataDir);
    await enableApp(h, own.tenantId, app.clientId);
  });

  /** Signs in (the browser keeps the session cookie) and redeems the code; the session item is found by the ID token's sid. */
  async function signedInSession() {
    const browser = new Browser();
    const r = await signIn(browser, authorizeUrl({ tenant: own.domain }), { email: own.ownerEmail, password: OWNER_PASSWORD });
    const tokens = (await exchange(new URL(r.callback!).searchParams.get('code')!)).body;
    const claims = JSON.parse(Buffer.from(tokens['id_token']!.split('.')[1]!, 'base64url').toString()) as { sid: string; sub: string };
    const key = { PK: `TENANT#${own.tenantId}`, SK: `USER#${claims.sub}#SESSION#${claims.sid}` };
    const session = async () => (await h.items(key.PK)).find((i) => i['SK'] === key.SK)!;
    const set = (attrs: Record<string, string>) =>
      h.db.send(new UpdateCommand({
        TableName: h.cp.tableName,
        Key: key,
        UpdateExpression: `SET ${Object.keys(attrs).map((a, i) => `#a${i} = :v${i}`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(Object.keys(attrs).map((a, i) => [`#a${i}`, a])),
        ExpressionAttributeValues: Object.fromEntries(Object.values(attrs).map((v, i) => [`:v${i}`, v])),
      }));
    return { browser, tokens, session, set };
  }
  const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
  const ahead = (ms: number) => new Date(Date.now() + ms).toISOString();

  it('FR-AUTH-005: past its idle timeout a session ends its refresh token, userinfo and introspection, and SSO (prompt=none → login_required)', async () => {
    const s = await signedInSession();
    expect(await userinfo(s.tokens['access_token']!)).toBe(200);
    await s.set({ idleExpiresAt: ago(1000) });
    expect(await token({ grant_type: 'refresh_token', refresh_token: s.tokens['refresh_token'] })).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await userinfo(s.tokens['access_token']!)).toBe(401);
    expect(await introspect(s.tokens['access_token']!)).toBe(false);
    expect(await introspect(s.tokens['refresh_token']!)).toBe(false);
    const sso = await s.browser.request(authorizeUrl({ tenant: own.domain, prompt: 'none' }));
    expect(new URL(sso.location!).searchParams.get('error')).toBe('login_required');
  });

  it('FR-AUTH-005: past its absolute timeout a session ends its refresh token however recently it was used', async () => {
    const s = await signedInSession();
    await s.set({ absoluteExpiresAt: ago(1000), idleExpiresAt: ahead(3_600_000), lastSeenAt: ago(0) });
    expect(await token({ grant_type: 'refresh_token', refresh_token: s.tokens['refresh_token'] })).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await userinfo(s.tokens['access_token']!)).toBe(401);
    expect(await introspect(s.tokens['refresh_token']!)).toBe(false);
  });

  it('FR-AUTH-005: a refresh is session activity: the idle timeout slides (written at most once a minute), the absolute one does not', async () => {
    const s = await signedInSession();
    const before = await s.session();
    // Last seen two minutes ago, 30 s of idle time left: without the slide the session would die in 30 s.
    await s.set({ lastSeenAt: ago(120_000), idleExpiresAt: ahead(30_000) });
    const r1 = await token({ grant_type: 'refresh_token', refresh_token: s.tokens['refresh_token'] });
    expect(r1.status).toBe(200);
    const slid = await s.session();
    expect(Date.parse(String(slid['idleExpiresAt']))).toBeGreaterThan(Date.now() + 23 * 3_600_000);
    expect(Date.parse(String(slid['lastSeenAt']))).toBeGreaterThan(Date.now() - 60_000);
    expect(slid['absoluteExpiresAt']).toBe(before['absoluteExpiresAt']);
    // Within the minute, a refresh writes nothing to the session.
    const r2 = await token({ grant_type: 'refresh_token', refresh_token: r1.body['refresh_token'] });
    expect(r2.status).toBe(200);
    expect((await s.session())['lastSeenAt']).toBe(slid['lastSeenAt']);
    // A refresh token ends with its session at the latest: introspection's exp is the session's absolute limit.
    const res = await fetch(h.url('/introspect'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ token: r2.body['refresh_token']! }),
    });
    expect(await res.json()).toMatchObject({ active: true, exp: Math.floor(Date.parse(String(before['absoluteExpiresAt'])) / 1000) });
  });
});
