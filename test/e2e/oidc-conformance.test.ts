/**
 * Conformance fixes from the OIDC review (D4–D13): each case names the clause it follows. Raw HTTP, as in
 * oidc-negative.test.ts, so that every parameter and header is under the test's control.
 * RFC 6749, RFC 6750, RFC 7009, RFC 7662, OIDC Core 1.0, OIDC Discovery 1.0.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Container } from '../../shared/composition';
import { RateLimitError } from '../../shared/domain/errors';
import { createLogger } from '../../shared/http/logger';
import { defineWebHandler } from '../../shared/http/web';
import { apiEvent } from '../support/api-event';
import { Browser } from '../support/browser';
import { startHarness, type Harness } from '../support/harness';
import { authorizeUrl as authorizeUrlFor, enableApp, OWNER_PASSWORD, registerApp, signIn, tenantWithOwner, type RegisteredApp, type TenantWithOwner } from '../support/identity';

const REDIRECT = 'https://conformance.example.com/callback';
const VERIFIER = 'c'.repeat(20) + 'onformance-0123456789-abcdefghijk';
let h: Harness;
let tenant: TenantWithOwner;
/** The client the user signs in to. */
let app: RegisteredApp;
/** A resource server enabled for the tenant (it may introspect the tenant's user tokens). */
let resourceServer: RegisteredApp;
/** A confidential client not enabled for the tenant. */
let stranger: RegisteredApp;
/** A machine client (client_credentials). */
let machine: RegisteredApp;
/** Holds the session cookie after the first sign-in, so later requests sign in at once (SSO). */
let browser: Browser;

beforeAll(async () => {
  h = await startHarness();
  tenant = await tenantWithOwner(h, 'conf-acme', h.dataDir);
  app = await registerApp(h, { name: 'Conformance Web', clientType: 'confidential', redirectUris: [REDIRECT] });
  resourceServer = await registerApp(h, { name: 'Conformance API', clientType: 'confidential', redirectUris: ['https://api.conformance.example.com/cb'] });
  stranger = await registerApp(h, { name: 'Stranger', clientType: 'confidential', redirectUris: ['https://stranger.example.com/cb'] });
  machine = await registerApp(h, { name: 'Conformance Batch', clientType: 'confidential', grantTypes: ['client_credentials'] });
  await enableApp(h, tenant.tenantId, app.clientId);
  await enableApp(h, tenant.tenantId, resourceServer.clientId);
  browser = new Browser();
  const first = await signIn(browser, authorizeUrl({}), { email: tenant.ownerEmail, password: OWNER_PASSWORD });
  if (!first.callback) throw new Error(`sign-in failed: ${first.status} ${first.body.slice(0, 200)}`);
});
afterAll(async () => {
  await h?.stop();
});

function authorizeUrl(params: Record<string, string | undefined>): string {
  return authorizeUrlFor(h, VERIFIER, { client_id: app.clientId, redirect_uri: REDIRECT, scope: 'openid email offline_access', state: 'st-c', tenant: tenant.domain, ...params });
}

/** The redirect back to the client, as URL (SSO: the browser's session signs in at once). */
async function authorize(params: Record<string, string | undefined>): Promise<URL> {
  const res = await browser.request(authorizeUrl(params));
  if (res.status !== 302 || !res.location) throw new Error(`no redirect: ${res.status} ${res.body.slice(0, 200)}`);
  return new URL(res.location);
}

function basic(client: RegisteredApp): string {
  return `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`;
}

async function post(path: string, form: Record<string, string | undefined>, client: RegisteredApp = app): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await fetch(h.url(path), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client) },
    body: new URLSearchParams(Object.entries(form).filter((e): e is [string, string] => e[1] !== undefined)),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Signs in (SSO) and redeems the code: the token response. */
async function tokens(params: Record<string, string | undefined> = {}): Promise<Record<string, string>> {
  const cb = await authorize(params);
  const c = cb.searchParams.get('code');
  if (!c) throw new Error(`no code: ${cb.toString()}`);
  const res = await post('/token', { grant_type: 'authorization_code', code: c, redirect_uri: REDIRECT, code_verifier: VERIFIER });
  expect(res.status).toBe(200);
  return res.body as Record<string, string>;
}

const introspect = (token: string, client: RegisteredApp = app, extra: Record<string, string> = {}) => post('/introspect', { token, ...extra }, client);

describe('Introspection: who may see a token (RFC 7662 §4, ERR-AUTH-403)', () => {
  let user: Record<string, string>;
  let machineToken: string;
  beforeAll(async () => {
    user = await tokens();
    const cc = await post('/token', { grant_type: 'client_credentials' }, machine);
    expect(cc.status).toBe(200);
    machineToken = String(cc.body['access_token']);
  });

  it('RFC 7662 §2.2: the client an access token was issued to sees it active', async () => {
    const res = await introspect(user['access_token']!);
    expect(res).toMatchObject({ status: 200, body: { active: true, client_id: app.clientId, sub: tenant.ownerId, tenant_id: tenant.tenantId } });
  });

  it("RFC 7662 §4: a client enabled for the token's tenant (a resource server serving it) sees a user access token active", async () => {
    const res = await introspect(user['access_token']!, resourceServer);
    expect(res).toMatchObject({ status: 200, body: { active: true, client_id: app.clientId, tenant_id: tenant.tenantId } });
  });

  it("RFC 7662 §4: a client not enabled for the token's tenant gets exactly {\"active\":false} for another client's access token", async () => {
    const res = await introspect(user['access_token']!, stranger);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ active: false });
    // Nor another client's refresh token (unchanged behaviour).
    expect((await introspect(user['refresh_token']!, stranger)).body).toEqual({ active: false });
  });

  it("RFC 7662 §4: another client's machine token (no tenant) is inactive to every client but its own", async () => {
    expect((await introspect(machineToken, resourceServer)).body).toEqual({ active: false });
    expect((await introspect(machineToken, app)).body).toEqual({ active: false });
    expect((await introspect(machineToken, machine)).body).toMatchObject({ active: true, client_id: machine.clientId, sub: machine.clientId });
  });

  it('RFC 7662 §2.2: token_type is "Bearer" for access tokens (an RFC 6749 §5.1 type) and omitted for refresh tokens', async () => {
    expect((await introspect(user['access_token']!)).body['token_type']).toBe('Bearer');
    expect((await introspect(machineToken, machine)).body['token_type']).toBe('Bearer');
    const refresh = await introspect(user['refresh_token']!);
    expect(refresh.body['active']).toBe(true);
    expect(refresh.body).not.toHaveProperty('token_type');
  });
});

describe('Authorization requests (OIDC Core §3.1.2, RFC 6749 §4.1.2.1)', () => {
  it.each([
    ['request', 'eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9.', 'request_not_supported'],
    ['request_uri', 'https://conformance.example.com/request.jwt', 'request_uri_not_supported'],
  ])('OIDC Core §3.1.2.6: %s is refused with its own error, back to the client with state and iss', async (param, value, error) => {
    const cb = await authorize({ [param]: value });
    expect(cb.origin + cb.pathname).toBe(REDIRECT);
    expect(cb.searchParams.get('error')).toBe(error);
    expect(cb.searchParams.get('state')).toBe('st-c');
    expect(cb.searchParams.get('iss')).toBe(h.cp.apiUrl);
    expect(cb.searchParams.get('code')).toBeNull();
  });

  it('RFC 6749 §4.1.2.1: a missing response_type is invalid_request; an unknown one stays unsupported_response_type', async () => {
    const missing = await authorize({ response_type: undefined });
    expect(missing.origin + missing.pathname).toBe(REDIRECT);
    expect(missing.searchParams.get('error')).toBe('invalid_request');
    expect(missing.searchParams.get('state')).toBe('st-c');
    expect((await authorize({ response_type: 'code id_token' })).searchParams.get('error')).toBe('unsupported_response_type');
  });

  it('OIDC Core §3.1.2.1: unknown scope values are ignored; the granted scope holds the known ones, and openid is still required', async () => {
    const t = await tokens({ scope: 'openid address email phone' });
    expect(t['scope']).toBe('openid email');
    expect(t['id_token']).toBeTruthy();
    expect(t).not.toHaveProperty('refresh_token');
    expect((await introspect(t['access_token']!)).body['scope']).toBe('openid email');
    const noOpenid = await authorize({ scope: 'address email' });
    expect(noOpenid.searchParams.get('error')).toBe('invalid_scope');
  });
});

describe('prompt (OIDC Core §3.1.2.1, FR-AUTH-001)', () => {
  it('OIDC Discovery §3: prompt_values_supported lists none, login, consent and select_account', async () => {
    const res = await fetch(h.url('/.well-known/openid-configuration'));
    const meta = (await res.json()) as { prompt_values_supported: string[] };
    expect([...meta.prompt_values_supported].sort()).toEqual(['consent', 'login', 'none', 'select_account']);
  });

  it('OIDC Core §3.1.2.1: prompt=select_account shows the login form despite a live session, so another account can be chosen', async () => {
    const res = await browser.request(authorizeUrl({ prompt: 'select_account' }));
    expect(res.status).toBe(302);
    const next = new URL(res.location!);
    expect(next.pathname).toBe('/login');
    const page = await browser.request(next.toString());
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/type="password"/);
  });

  it("OIDC Core §3.1.2.1: prompt=consent is satisfied by the tenant's enablement of the application (UC-PROV-001) and proceeds as without prompt", async () => {
    const cb = await authorize({ prompt: 'consent' });
    expect(cb.origin + cb.pathname).toBe(REDIRECT);
    expect(cb.searchParams.get('code')).toBeTruthy();
    expect(cb.searchParams.get('state')).toBe('st-c');
  });

  it('OIDC Core §3.1.2.1: prompt=none combined with any other value stays invalid_request', async () => {
    for (const prompt of ['none consent', 'none select_account', 'none login']) {
      expect((await authorize({ prompt })).searchParams.get('error')).toBe('invalid_request');
    }
  });
});

describe('Refresh scope (RFC 6749 §6, §3.1)', () => {
  it('RFC 6749 §3.1: an empty or blank scope at the refresh grant is treated as omitted: the original scope and an ID token', async () => {
    const t = await tokens();
    const empty = await post('/token', { grant_type: 'refresh_token', refresh_token: t['refresh_token'], scope: '' });
    expect(empty.status).toBe(200);
    expect(empty.body['scope']).toBe('openid email offline_access');
    expect(empty.body['id_token']).toBeTruthy();
    const blank = await post('/token', { grant_type: 'refresh_token', refresh_token: String(empty.body['refresh_token']), scope: '   ' });
    expect(blank.status).toBe(200);
    expect(blank.body['scope']).toBe('openid email offline_access');
    expect(blank.body['id_token']).toBeTruthy();
  });
});

describe('UserInfo as a protected resource (RFC 6750, ERR-AUTH-401, ERR-AUTH-403)', () => {
  let user: Record<string, string>;
  beforeAll(async () => {
    user = await tokens();
  });

  it('RFC 6750 §3.1: a request with no token at all gets 401 and a Bearer challenge without error information', async () => {
    const get = await fetch(h.url('/userinfo'));
    expect(get.status).toBe(401);
    expect(get.headers.get('www-authenticate')).toBe('Bearer');
    expect(await get.text()).not.toMatch(/error/);
    const postNoToken = await fetch(h.url('/userinfo'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'foo=bar' });
    expect(postNoToken.status).toBe(401);
    expect(postNoToken.headers.get('www-authenticate')).toBe('Bearer');
    expect(postNoToken.headers.get('cache-control')).toBe('no-store');
    // Another scheme is no Bearer token either (§3.1: "attempted using an unsupported authentication method").
    const other = await fetch(h.url('/userinfo'), { headers: { authorization: basic(app) } });
    expect(other.status).toBe(401);
    expect(other.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('RFC 6750 §3.1: a bad token keeps 401 with error="invalid_token"', async () => {
    const res = await fetch(h.url('/userinfo'), { headers: { authorization: 'Bearer not-a-token' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(await res.json()).toMatchObject({ error: 'invalid_token' });
  });

  it('RFC 6750 §2: a token in both the Authorization header and the form body is invalid_request (400)', async () => {
    const res = await fetch(h.url('/userinfo'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${user['access_token']}` },
      body: new URLSearchParams({ access_token: user['access_token']! }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_request"');
    expect(await res.json()).toMatchObject({ error: 'invalid_request' });
    // Either place alone works.
    const body = await fetch(h.url('/userinfo'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ access_token: user['access_token']! }) });
    expect(body.status).toBe(200);
  });

  it('RFC 6750 §3.1: a valid access token without the openid scope gets 403 and error="insufficient_scope"', async () => {
    const refreshed = await post('/token', { grant_type: 'refresh_token', refresh_token: user['refresh_token'], scope: 'email offline_access' });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body['scope']).toBe('email offline_access');
    const res = await fetch(h.url('/userinfo'), { headers: { authorization: `Bearer ${String(refreshed.body['access_token'])}` } });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_scope"/);
    expect(await res.json()).toMatchObject({ error: 'insufficient_scope' });
  });
});

describe('Token type hints (RFC 7009 §2.1, RFC 7662 §2.1)', () => {
  it('RFC 7009 §2.1: an unknown token_type_hint at /revoke is ignored and every token type is searched', async () => {
    const t = await tokens();
    const res = await post('/revoke', { token: t['refresh_token'], token_type_hint: 'id_token' });
    expect(res.status).toBe(200);
    expect((await introspect(t['refresh_token']!)).body).toEqual({ active: false });
    // The access token, with a hint naming the wrong type.
    const t2 = await tokens();
    expect((await post('/revoke', { token: t2['access_token'], token_type_hint: 'refresh_token' })).status).toBe(200);
    expect((await introspect(t2['access_token']!)).body).toEqual({ active: false });
    // Revocations are still audited, with the hint as given (bounded).
    const audits = (await h.items('PLATFORM#AUDIT')).filter((a) => a['action'] === 'oauth.revoke');
    expect(audits.some((a) => (a['metadata'] as Record<string, unknown>)['hint'] === 'id_token')).toBe(true);
  });

  it('RFC 7662 §2.1: an unknown token_type_hint at /introspect is ignored', async () => {
    const t = await tokens();
    expect(await introspect(t['access_token']!, app, { token_type_hint: 'id_token' })).toMatchObject({ status: 200, body: { active: true, client_id: app.clientId } });
    expect(await introspect(t['refresh_token']!, app, { token_type_hint: 'access_token' })).toMatchObject({ status: 200, body: { active: true, client_id: app.clientId } });
  });
});

describe('Errors outside the OAuth format stay uncached (RFC 6749 §5.1, CON-SEC-009)', () => {
  it('CON-SEC-009: a 500 at /token, /revoke, /introspect and /userinfo carries Cache-Control: no-store and Pragma: no-cache, and no stack trace', async () => {
    // A client whose record is corrupt makes the client lookup fail with an internal error.
    const broken = await registerApp(h, { name: 'Broken', clientType: 'confidential', grantTypes: ['client_credentials'] });
    const cc = await post('/token', { grant_type: 'client_credentials' }, broken);
    expect(cc.status).toBe(200);
    await h.db.send(new UpdateCommand({ TableName: h.cp.tableName, Key: { PK: `APP#${broken.clientId}`, SK: 'APP' }, UpdateExpression: 'SET clientType = :t', ExpressionAttributeValues: { ':t': 'bogus' } }));
    // Past the client cache (CLIENT_CACHE_SECONDS = 1).
    await new Promise((r) => setTimeout(r, 1_200));
    const responses = [
      await post('/token', { grant_type: 'client_credentials' }, broken),
      await post('/revoke', { token: 'x' }, broken),
      await post('/introspect', { token: 'x' }, broken),
    ];
    const ui = await fetch(h.url('/userinfo'), { headers: { authorization: `Bearer ${String(cc.body['access_token'])}` } });
    responses.push({ status: ui.status, headers: ui.headers, body: (await ui.json()) as Record<string, unknown> });
    for (const res of responses) {
      expect(res.status).toBe(500);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('pragma')).toBe('no-cache');
      expect(res.body['error']).toBe('server_error');
      expect(JSON.stringify(res.body)).not.toMatch(/corrupt|at .*\.ts|Error:/);
    }
  });

  it('ERR-RATE-429: a 429 from the handler layer of an OAuth endpoint carries Retry-After, Cache-Control: no-store and Pragma: no-cache', async () => {
    const c = { log: createLogger('silent') } as unknown as Container; // only the members this handler touches
    const handler = defineWebHandler({
      kind: 'oauth',
      container: () => c,
      handle: async () => {
        throw new RateLimitError(2);
      },
    });
    const event = apiEvent({ resource: '/token', path: '/token', httpMethod: 'POST' });
    const res = await handler(event, {} as Context);
    expect(res.statusCode).toBe(429);
    expect(res.headers).toMatchObject({ 'retry-after': '2', 'cache-control': 'no-store', pragma: 'no-cache' });
    expect(JSON.parse(res.body)).toMatchObject({ error: 'temporarily_unavailable' });
  });
});

describe('Denials at the OAuth endpoints are audited (FR-LOG-003)', () => {
  it('FR-LOG-003: a wrong client secret at /revoke and /introspect, and a bad token at /userinfo, each leave a Failure record naming the claimed client or the endpoint', async () => {
    const impostor: RegisteredApp = { clientId: app.clientId, clientSecret: 'cps_not-the-secret' };
    expect((await post('/revoke', { token: 'x' }, impostor)).status).toBe(401);
    expect((await introspect('x', impostor)).status).toBe(401);
    expect((await fetch(h.url('/userinfo'), { headers: { authorization: 'Bearer not-a-token' } })).status).toBe(401);
    const audit = await h.items('PLATFORM#AUDIT');
    const failures = (action: string, resource: string) =>
      audit.filter((a) => a['action'] === action && a['outcome'] === 'Failure' && a['resource'] === resource).map((a) => a['metadata']);
    expect(failures('oauth.revoke', `client:${app.clientId}`)).toContainEqual(expect.objectContaining({ error: 'invalid_client', reason: 'bad client secret' }));
    expect(failures('oauth.introspect', `client:${app.clientId}`)).toContainEqual(expect.objectContaining({ error: 'invalid_client', reason: 'bad client secret' }));
    expect(failures('oauth.userinfo', 'endpoint:/userinfo')).toContainEqual(expect.objectContaining({ error: 'invalid_token', reason: 'invalid token' }));
  });
});

describe('CORS for browser apps (single-page apps with a public client)', () => {
  const SPA = 'https://spa.conformance.example.com';
  let spa: RegisteredApp;
  beforeAll(async () => {
    spa = await registerApp(h, { name: 'Conformance SPA', clientType: 'public', redirectUris: [`${SPA}/callback`] });
    await enableApp(h, tenant.tenantId, spa.clientId);
  });
  const form = (fields: Record<string, string>, origin: string) =>
    fetch(h.url('/token'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin }, body: new URLSearchParams(fields) });

  it('OIDC Discovery §4: the discovery document and the JWKS may be read from any origin', async () => {
    for (const path of ['/.well-known/openid-configuration', '/.well-known/jwks.json']) {
      const res = await fetch(h.url(path), { headers: { origin: SPA } });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('access-control-allow-origin'), path).toBe('*');
    }
  });

  it('FR-AUTH-001: /token answers the origin of one of the client\'s redirect URIs, on success and on error, and no other origin', async () => {
    const cb = await authorize({ client_id: spa.clientId, redirect_uri: `${SPA}/callback` });
    const code = cb.searchParams.get('code')!;
    const ok = await form({ grant_type: 'authorization_code', client_id: spa.clientId, code, redirect_uri: `${SPA}/callback`, code_verifier: VERIFIER }, SPA);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(SPA);
    expect(ok.headers.get('vary')).toMatch(/origin/i);
    const tokens = (await ok.json()) as Record<string, string>;
    const info = await fetch(h.url('/userinfo'), { headers: { authorization: `Bearer ${tokens['access_token']}`, origin: SPA } });
    expect(info.status).toBe(200);
    expect(info.headers.get('access-control-allow-origin')).toBe('*');

    // A second redemption is refused (and revokes the first's tokens); the SPA can still read why.

    const refused = await form({ grant_type: 'authorization_code', client_id: spa.clientId, code, redirect_uri: `${SPA}/callback`, code_verifier: VERIFIER }, SPA);
    expect(refused.status).toBe(400);
    expect(refused.headers.get('access-control-allow-origin')).toBe(SPA);

    for (const origin of ['https://evil.example', 'https://spa.conformance.example.com:8443', 'http://spa.conformance.example.com']) {
      const other = await form({ grant_type: 'refresh_token', client_id: spa.clientId, refresh_token: tokens['refresh_token'] ?? 'x' }, origin);
      expect(other.headers.get('access-control-allow-origin'), origin).toBeNull();
    }
    // The confidential web app's redirect origin is not the SPA's.
    const cross = await form({ grant_type: 'client_credentials', client_id: spa.clientId }, new URL(REDIRECT).origin);
    expect(cross.headers.get('access-control-allow-origin')).toBeNull();

  });

  it('FR-AUTH-001: the gateway answers CORS preflights for /token, /revoke and /userinfo, allowing the Authorization header', async () => {
    for (const [path, method] of [['/token', 'POST'], ['/revoke', 'POST'], ['/userinfo', 'GET']] as const) {
      const res = await fetch(h.url(path), { method: 'OPTIONS', headers: { origin: SPA, 'access-control-request-method': method, 'access-control-request-headers': 'authorization' } });
      expect(res.status, path).toBe(204);
      expect(res.headers.get('access-control-allow-origin'), path).toBe('*');
      expect(res.headers.get('access-control-allow-methods'), path).toContain(method);
      expect(res.headers.get('access-control-allow-headers'), path).toContain('authorization');
    }
  });
});

describe('id_token_hint at the authorization endpoint (OIDC Core §3.1.2.1)', () => {
  it('OIDC Core §3.1.2.1: prompt=none with a hint naming the signed-in user signs in; a hint naming someone else gets login_required; a hint we did not issue is invalid_request', async () => {
    const mine = (await tokens())['id_token']!;
    const silent = await authorize({ prompt: 'none', id_token_hint: mine });
    expect(silent.searchParams.get('code')).toMatch(/^cpac_/);

    // Another user, of another tenant, signed in to the same application in another browser.
    const other = await tenantWithOwner(h, 'conf-hint-other', h.dataDir);
    await enableApp(h, other.tenantId, app.clientId);
    const elsewhere = await signIn(new Browser(), authorizeUrl({ tenant: other.domain }), { email: other.ownerEmail, password: OWNER_PASSWORD });
    const code = new URL(elsewhere.callback!).searchParams.get('code')!;
    const theirs = (await post('/token', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: VERIFIER })).body['id_token'] as string;

    const refused = await authorize({ prompt: 'none', id_token_hint: theirs, tenant: undefined });
    expect(refused.searchParams.get('error')).toBe('login_required');
    expect(refused.searchParams.get('state')).toBe('st-c');
    // Without prompt=none the person gets the login form instead of the other user's session.
    const form = await browser.request(authorizeUrl({ id_token_hint: theirs, tenant: undefined }));
    expect(new URL(form.location!).pathname).toBe('/login');

    const [head, payload] = mine.split('.') as [string, string];
    for (const bad of [`${head}.${payload}.AAAA`, 'not-a-jwt']) {
      const res = await authorize({ prompt: 'none', id_token_hint: bad });
      expect(res.searchParams.get('error')).toBe('invalid_request');
      expect(res.searchParams.get('iss')).toBe(h.cp.apiUrl);
    }
  });
});
