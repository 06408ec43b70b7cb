/**
 * Issue #3 acceptance: a certified relying-party library (openid-client) against the local provider,
 * submitting the real login form. Spec: FR-AUTH-001, FR-AUTH-005, FR-SYS-001, FR-SYS-003, NFR-SEC-003 (ES256).
 */
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startHarness, type Harness } from '../support/harness';
import { Browser, hiddenFields } from '../support/browser';
import { enableApp, OWNER_PASSWORD, registerApp, signIn, tenantWithOwner, type RegisteredApp, type TenantWithOwner } from '../support/identity';

const REDIRECT = 'http://127.0.0.1:8976/callback';
let h: Harness;
let tenant: TenantWithOwner;
let web: RegisteredApp;

beforeAll(async () => {
  h = await startHarness();
  tenant = await tenantWithOwner(h, 'oidc-acme', h.dataDir);
  web = await registerApp(h, { name: 'Acme Web', clientType: 'confidential', redirectUris: [REDIRECT], postLogoutRedirectUris: ['http://127.0.0.1:8976/bye'] });
  await enableApp(h, tenant.tenantId, web.clientId);
});
afterAll(async () => {
  await h?.stop();
});

async function client(app: RegisteredApp): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(h.cp.apiUrl), app.clientId, app.clientSecret, app.clientSecret ? oidc.ClientSecretBasic(app.clientSecret) : oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
}

describe('OpenID Connect with openid-client (FR-AUTH-001)', () => {
  it('FR-AUTH-001: discovery → code + PKCE via the login form → ID token → userinfo → refresh (rotated) → revocation → introspection inactive', async () => {
    const config = await client(web);
    const meta = config.serverMetadata();
    expect(meta.issuer).toBe(h.cp.apiUrl);
    expect(meta.id_token_signing_alg_values_supported).toEqual(['ES256']);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);

    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid email offline_access',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      tenant: tenant.domain,
    });
    const browser = new Browser();
    const { callback } = await signIn(browser, url.href, { email: tenant.ownerEmail, password: OWNER_PASSWORD });
    expect(callback).toMatch(/^http:\/\/127\.0\.0\.1:8976\/callback\?code=/);

    const tokens = await oidc.authorizationCodeGrant(config, new URL(callback!), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ iss: h.cp.apiUrl, sub: tenant.ownerId, aud: web.clientId, tenant_id: tenant.tenantId, role: 'Owner', email: tenant.ownerEmail, amr: ['pwd'] });
    for (const c of ['exp', 'iat', 'auth_time', 'at_hash', 'sid', 'nonce']) expect(claims).toHaveProperty(c);
    expect(tokens.refresh_token).toMatch(/^cprt_/);

    const info = await oidc.fetchUserInfo(config, tokens.access_token, tenant.ownerId);
    expect(info).toMatchObject({ sub: tenant.ownerId, email: tenant.ownerEmail, tenant_id: tenant.tenantId });

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token).toBeDefined();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.claims()?.sub).toBe(tenant.ownerId);

    expect((await oidc.tokenIntrospection(config, refreshed.access_token)).active).toBe(true);
    await oidc.tokenRevocation(config, refreshed.refresh_token!);
    // Revoking the refresh token ends its family, and with it the access tokens issued from it.
    expect((await oidc.tokenIntrospection(config, refreshed.refresh_token!)).active).toBe(false);
    expect((await oidc.tokenIntrospection(config, refreshed.access_token)).active).toBe(false);
    await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('FR-SYS-001: client_credentials for a machine client', async () => {
    const machine = await registerApp(h, { name: 'Acme Batch', clientType: 'confidential', grantTypes: ['client_credentials'] });
    const config = await client(machine);
    const tokens = await oidc.clientCredentialsGrant(config);
    expect(tokens.token_type).toBe('bearer');
    const intro = await oidc.tokenIntrospection(config, tokens.access_token);
    expect(intro).toMatchObject({ active: true, client_id: machine.clientId, sub: machine.clientId });
  });

  it('FR-AUTH-005: a second /authorize with a live session signs in without the form (SSO); prompt=login forces it', async () => {
    const config = await client(web);
    const browser = new Browser();
    const params = async () => ({ redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256', tenant: tenant.domain });
    const first = await signIn(browser, oidc.buildAuthorizationUrl(config, await params()).href, { email: tenant.ownerEmail, password: OWNER_PASSWORD });
    expect(first.callback).toContain('code=');
    const again = await browser.request(oidc.buildAuthorizationUrl(config, await params()).href);
    expect(again.status).toBe(302);
    expect(again.location).toContain('code=');
    const forced = await browser.request(oidc.buildAuthorizationUrl(config, { ...(await params()), prompt: 'login' }).href);
    expect(new URL(forced.location!).pathname).toBe('/login');
    const none = await new Browser().request(oidc.buildAuthorizationUrl(config, { ...(await params()), prompt: 'none' }).href);
    expect(new URL(none.location!).searchParams.get('error')).toBe('login_required');
  });

  it('FR-AUTH-005: RP-initiated logout ends the session and redirects only to a registered URI', async () => {
    const config = await client(web);
    const browser = new Browser();
    const verifier = oidc.randomPKCECodeVerifier();
    const { callback } = await signIn(browser, oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid offline_access', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', tenant: tenant.domain }).href, { email: tenant.ownerEmail, password: OWNER_PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(config, new URL(callback!), { pkceCodeVerifier: verifier });
    const bad = await browser.request(oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'https://evil.example/' }).href);
    expect(bad.status).toBe(400);
    const out = await browser.request(oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'http://127.0.0.1:8976/bye', state: 's1' }).href);
    expect(out.location).toBe('http://127.0.0.1:8976/bye?state=s1');
    // The session and its refresh tokens are gone: userinfo 401, refresh refused.
    await expect(oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub)).rejects.toBeDefined();
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const audit = await h.items(`TENANT#${tenant.tenantId}`);
    expect(audit.some((a) => a['action'] === 'user.logout' && a['outcome'] === 'Success')).toBe(true);
  });

  it('ERR-AUTH-401: a wrong password, an unknown user and an unknown tenant get the same answer', async () => {
    const config = await client(web);
    const url = async (t?: string) => oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256', ...(t ? { tenant: t } : {}) }).href;
    const wrong = await signIn(new Browser(), await url(tenant.domain), { email: tenant.ownerEmail, password: 'not-the-password-at-all' });
    const unknownUser = await signIn(new Browser(), await url(tenant.domain), { email: 'nobody@oidc-acme.example', password: 'not-the-password-at-all' });
    const unknownTenant = await signIn(new Browser(), await url(), { email: tenant.ownerEmail, password: OWNER_PASSWORD, tenant: 'no-such-tenant' });
    for (const r of [wrong, unknownUser, unknownTenant]) {
      expect(r.status).toBe(401);
      expect(r.callback).toBeNull();
      expect(r.body).toContain('Incorrect organization, email or password.');
    }
    const failures = (await h.items(`TENANT#${tenant.tenantId}`)).filter((a) => a['action'] === 'user.login' && a['outcome'] === 'Failure');
    expect(failures.length).toBeGreaterThanOrEqual(2);
  });
});

describe('RP-Initiated Logout 1.0 (FR-AUTH-005)', () => {
  const BYE = 'http://127.0.0.1:8976/bye';

  /** A signed-in browser (session cookie kept) and its tokens. */
  async function session(): Promise<{ browser: Browser; config: oidc.Configuration; tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers }> {
    const config = await client(web);
    const browser = new Browser();
    const verifier = oidc.randomPKCECodeVerifier();
    const { callback } = await signIn(browser, oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid offline_access', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', tenant: tenant.domain }).href, { email: tenant.ownerEmail, password: OWNER_PASSWORD });
    return { browser, config, tokens: await oidc.authorizationCodeGrant(config, new URL(callback!), { pkceCodeVerifier: verifier }) };
  }
  const alive = async (config: oidc.Configuration, accessToken: string, sub: string): Promise<boolean> =>
    oidc.fetchUserInfo(config, accessToken, sub).then(
      () => true,
      () => false,
    );

  it('RP-Initiated Logout §2: an id_token_hint we did not issue gets an error page, never a redirect, and the session stays', async () => {
    const { browser, config, tokens } = await session();
    const [head, payload] = tokens.id_token!.split('.') as [string, string];
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    const forged = `${head}.${Buffer.from(JSON.stringify({ ...tokens.claims(), iss: 'https://evil.example' })).toString('base64url')}.${tokens.id_token!.split('.')[2]}`;
    for (const hint of [unsigned, forged, tokens.access_token]) {
      const res = await browser.request(oidc.buildEndSessionUrl(config, { id_token_hint: hint, post_logout_redirect_uri: BYE, state: 's' }).href);
      expect(res.status).toBe(400);
      expect(res.location).toBeNull();
    }
    expect(await alive(config, tokens.access_token, tokens.claims()!.sub)).toBe(true);
    // FR-LOG-003: each refusal is audited (no tenant: the hint is not trusted to name one).
    const denials = (await h.items('PLATFORM#AUDIT')).filter((a) => a['action'] === 'user.logout' && a['outcome'] === 'Failure' && a['resource'] === `client:${web.clientId}`);
    expect(denials.length).toBeGreaterThanOrEqual(3);
  });

  it('RP-Initiated Logout §6: without an id_token_hint the person confirms on a CSRF-protected form; a forged confirmation changes nothing', async () => {
    const { browser, config, tokens } = await session();
    const ask = await browser.request(`${h.url('/logout')}?client_id=${web.clientId}&post_logout_redirect_uri=${encodeURIComponent(BYE)}&state=s2`);
    expect(ask.status).toBe(200);
    expect(ask.body).toContain('Sign out?');
    expect(ask.body).toContain(tenant.ownerEmail);
    expect(await alive(config, tokens.access_token, tokens.claims()!.sub)).toBe(true);

    const fields = hiddenFields(ask.body);
    expect(fields).toMatchObject({ client_id: web.clientId, post_logout_redirect_uri: BYE, state: 's2', confirm: 'yes' });
    const forged = await browser.request(h.url('/logout'), { form: { ...fields, csrf: 'guessed' } });
    expect(forged.status).toBe(403);
    expect(await alive(config, tokens.access_token, tokens.claims()!.sub)).toBe(true);

    const confirmed = await browser.request(h.url('/logout'), { form: fields });
    expect(confirmed.location).toBe(`${BYE}?state=s2`);
    expect(await alive(config, tokens.access_token, tokens.claims()!.sub)).toBe(false);
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it("RP-Initiated Logout §2: a hint for another session does not end this browser's session without confirmation", async () => {
    const first = await session();
    const second = await session();
    const res = await second.browser.request(oidc.buildEndSessionUrl(first.config, { id_token_hint: first.tokens.id_token!, post_logout_redirect_uri: BYE }).href);
    expect(res.status).toBe(200);
    expect(res.body).toContain('Sign out?');
    expect(await alive(second.config, second.tokens.access_token, second.tokens.claims()!.sub)).toBe(true);
    expect(await alive(first.config, first.tokens.access_token, first.tokens.claims()!.sub)).toBe(true);
  });

  it('RP-Initiated Logout §2: POST /logout from the app (no session cookie on a cross-site POST) with a valid hint ends the session the hint names', async () => {
    const { config, tokens } = await session();
    const res = await new Browser().request(h.url('/logout'), { form: { id_token_hint: tokens.id_token!, post_logout_redirect_uri: BYE, state: 'p1' }, headers: { origin: 'http://127.0.0.1:8976' } });
    expect(res.location).toBe(`${BYE}?state=p1`);
    expect(await alive(config, tokens.access_token, tokens.claims()!.sub)).toBe(false);
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});

describe('Authorization endpoint by POST (OIDC Core §3.1.2.1)', () => {
  it('OIDC Core §3.1.2.1: POST /authorize with form-encoded parameters signs in like GET', async () => {
    const config = await client(web);
    const verifier = oidc.randomPKCECodeVerifier();
    const params = Object.fromEntries(oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', state: 'post-1', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', tenant: tenant.domain }).searchParams);
    const browser = new Browser();
    const start = await browser.request(h.url('/authorize'), { form: params, headers: { origin: 'http://127.0.0.1:8976' } });
    expect(start.status).toBe(302);
    expect(new URL(start.location!).pathname).toBe('/login');
    const page = await browser.request(start.location!);
    const done = await browser.request(h.url('/login'), { form: { ...hiddenFields(page.body), email: tenant.ownerEmail, password: OWNER_PASSWORD } });
    const callback = new URL(done.location!);
    expect(callback.searchParams.get('state')).toBe('post-1');
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'post-1' });
    expect(tokens.claims()!['tenant_id']).toBe(tenant.tenantId);

    // The same validation as GET: an unregistered redirect URI is an error page, not a redirect.
    const bad = await new Browser().request(h.url('/authorize'), { form: { ...params, redirect_uri: `${REDIRECT}/x` } });
    expect(bad.status).toBe(400);
    expect(bad.location).toBeNull();
  });
});

describe('Applications API (FR-SYS-001, FR-SYS-003)', () => {
  it('FR-SYS-001: the client secret is shown once and only its hash is stored', async () => {
    const app = await registerApp(h, { name: 'Secret Shown Once', clientType: 'confidential', redirectUris: [REDIRECT] });
    expect(app.clientSecret).toMatch(/^cps_[A-Za-z0-9_-]{43}$/);
    const item = (await h.items(`APP#${app.clientId}`))[0]!;
    expect(JSON.stringify(item)).not.toContain(app.clientSecret!);
    const got = await api(h, 'GET', `/v1/apps/${app.clientId}`, { token: await h.developerToken() });
    expect(JSON.stringify(got.body)).not.toContain('cps_');
  });

  it('FR-SYS-003: disabling an application stops token issuance and refresh at once', async () => {
    const app = await registerApp(h, { name: 'Soon Disabled', clientType: 'confidential', redirectUris: [REDIRECT] });
    await enableApp(h, tenant.tenantId, app.clientId);
    const config = await client(app);
    const verifier = oidc.randomPKCECodeVerifier();
    const { callback } = await signIn(new Browser(), oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid offline_access', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', tenant: tenant.domain }).href, { email: tenant.ownerEmail, password: OWNER_PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(config, new URL(callback!), { pkceCodeVerifier: verifier });
    const disabled = await api(h, 'PATCH', `/v1/apps/${app.clientId}`, { token: await h.developerToken(), body: { status: 'Disabled' } });
    expect(disabled.status).toBe(200);
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'unauthorized_client' });
    await expect(oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub)).rejects.toBeDefined();
    const again = await new Browser().request(oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' }).href);
    expect(new URL(again.location!).searchParams.get('error')).toBe('unauthorized_client');
  });

  it('UC-PROV-001: a user of a tenant the app is not enabled for cannot sign in to it', async () => {
    const other = await registerApp(h, { name: 'Not Enabled', clientType: 'public', redirectUris: [REDIRECT] });
    const config = await client(other);
    const r = await signIn(new Browser(), oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256', tenant: tenant.domain }).href, { email: tenant.ownerEmail, password: OWNER_PASSWORD });
    expect(r.callback).toBeNull();
    expect(r.body).toContain('not enabled for your organization');
  });

  it('ERR-AUTH-403: a token without the developer or operator group cannot register applications', async () => {
    const res = await api(h, 'POST', '/v1/apps', { token: await h.mintToken({ sub: 'someone', groups: ['staff'] }, { expiresIn: '5m' }), body: { name: 'x', clientType: 'public', redirectUris: [REDIRECT] } });
    expect(res.status).toBe(403);
  });
});
