/**
 * FR-AUTH-004 end to end through the local outbox; FR-AUTH-006 policy errors; ERR-RATE-429 throttling.
 */
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latestMessage, listOutbox } from '../../shared/adapters/local/outbox-mailer';
import { startHarness, type Harness } from '../support/harness';
import { Browser, hiddenFields } from '../support/browser';
import { enableApp, OWNER_PASSWORD, registerApp, signIn, tenantWithOwner, type RegisteredApp, type TenantWithOwner } from '../support/identity';

const REDIRECT = 'http://127.0.0.1:8977/callback';
const NEW_PASSWORD = 'lantern-orchid-granite-2044';
let h: Harness;
let tenant: TenantWithOwner;
let app: RegisteredApp;

beforeAll(async () => {
  h = await startHarness();
  tenant = await tenantWithOwner(h, 'reset-acme', h.dataDir);
  app = await registerApp(h, { name: 'Reset App', clientType: 'confidential', redirectUris: [REDIRECT] });
  await enableApp(h, tenant.tenantId, app.clientId);
});
afterAll(async () => {
  await h?.stop();
});

async function config(): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(h.cp.apiUrl), app.clientId, app.clientSecret, oidc.ClientSecretBasic(app.clientSecret!), { execute: [oidc.allowInsecureRequests] });
}

async function login(password: string, browser = new Browser()): Promise<{ tokens?: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers; status: number; body: string }> {
  const c = await config();
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(c, { redirect_uri: REDIRECT, scope: 'openid offline_access', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', tenant: tenant.domain });
  const r = await signIn(browser, url.href, { email: tenant.ownerEmail, password });
  if (!r.callback) return { status: r.status, body: r.body };
  return { tokens: await oidc.authorizationCodeGrant(c, new URL(r.callback), { pkceCodeVerifier: verifier }), status: r.status, body: r.body };
}

async function requestReset(browser: Browser, email: string, tenantDomain = tenant.domain): Promise<{ status: number; body: string }> {
  const page = await browser.request(h.url('/password/forgot'));
  return browser.request(h.url('/password/forgot'), { form: { ...hiddenFields(page.body), tenant: tenantDomain, email } });
}

describe('Password reset (FR-AUTH-004)', () => {
  it('FR-AUTH-004: reset through the outbox; the new password works, the old does not, and every session ended', async () => {
    const before = await login(OWNER_PASSWORD);
    expect(before.tokens).toBeDefined();
    const c = await config();

    const browser = new Browser();
    const res = await requestReset(browser, tenant.ownerEmail);
    expect(res.status).toBe(200);
    expect(res.body).toContain('If an account exists for that address');
    const mail = await latestMessage(h.dataDir, { to: tenant.ownerEmail, kind: 'password-reset' });
    const link = mail?.text.match(/https?:\/\/\S+\/password\/reset\?token=\S+/)?.[0];
    expect(link).toBeDefined();

    const page = await browser.request(link!);
    expect(page.status).toBe(200);
    const weak = await browser.request(h.url('/password/reset'), { form: { ...hiddenFields(page.body), password: 'password1234' } });
    expect(weak.status).toBe(422);
    expect(weak.body).toMatch(/common/i);
    const done = await browser.request(h.url('/password/reset'), { form: { ...hiddenFields(page.body), password: NEW_PASSWORD } });
    expect(done.status).toBe(200);

    // Success ends all sessions and refresh tokens (FR-AUTH-004, FR-AUTH-005).
    await expect(oidc.refreshTokenGrant(c, before.tokens!.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.fetchUserInfo(c, before.tokens!.access_token, before.tokens!.claims()!.sub)).rejects.toBeDefined();
    expect((await login(OWNER_PASSWORD)).status).toBe(401);
    expect((await login(NEW_PASSWORD)).tokens).toBeDefined();

    // Single use.
    const reuse = await browser.request(link!);
    expect(reuse.status).toBe(404);
    const changed = await latestMessage(h.dataDir, { to: tenant.ownerEmail, kind: 'password-changed' });
    expect(changed).toBeDefined();
    const audit = (await h.items(`TENANT#${tenant.tenantId}`)).filter((a) => a['action'] === 'user.password.reset');
    expect(audit.map((a) => a['outcome']).sort()).toEqual(['Failure', 'Success']);
  });

  it('CON-SEC-009: an unknown account gets the same page, and no mail is sent', async () => {
    const before = (await listOutbox(h.dataDir)).length;
    const known = await requestReset(new Browser(), tenant.ownerEmail);
    const unknown = await requestReset(new Browser(), 'ghost@reset-acme.example');
    const unknownTenant = await requestReset(new Browser(), tenant.ownerEmail, 'no-such-org');
    const strip = (b: string) => b.replace(/value="[^"]*"/g, '');
    expect(unknown.status).toBe(known.status);
    expect(strip(unknown.body)).toBe(strip(known.body));
    expect(strip(unknownTenant.body)).toBe(strip(known.body));
    expect((await listOutbox(h.dataDir)).length).toBe(before + 1);
  });

  it('ERR-RATE-429: reset requests for one account are throttled with Retry-After', async () => {
    const email = 'throttled@reset-acme.example';
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 5; i++) {
      const b = new Browser();
      const page = await b.request(h.url('/password/forgot'));
      const res = await fetch(h.url('/password/forgot'), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `cp_csrf=${hiddenFields(page.body)['csrf']}` },
        body: new URLSearchParams({ csrf: hiddenFields(page.body)['csrf']!, tenant: tenant.domain, email }),
      });
      statuses.push(res.status);
      retryAfter ??= res.headers.get('retry-after');
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toEqual([429, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });

  it('ERR-RATE-429: sign-in attempts for one account are throttled, whether or not the account exists', async () => {
    const c = await config();
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const url = oidc.buildAuthorizationUrl(c, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256', tenant: tenant.domain });
      statuses.push((await signIn(new Browser(), url.href, { email: 'nobody-here@reset-acme.example', password: 'wrong-password-guess' })).status);
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses[10]).toBe(429);
    const denials = (await h.items('PLATFORM#AUDIT')).filter((a) => a['action'] === 'user.login' && (a['metadata'] as Record<string, unknown>)['code'] === 'ERR-RATE-429');
    expect(denials).toHaveLength(1);
  });

  it('ERR-RATE-429: the sign-in limits count failed attempts; successful sign-ins give their units back (people behind one NAT address)', async () => {
    const own = await tenantWithOwner(h, 'reset-many-signins', h.dataDir);
    await enableApp(h, own.tenantId, app.clientId);
    const c = await config();
    const attempt = async (password: string) => {
      const url = oidc.buildAuthorizationUrl(c, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256', tenant: own.domain });
      return (await signIn(new Browser(), url.href, { email: own.ownerEmail, password })).status;
    };
    // More successes than the per-account limit (10 per 15 minutes) allows attempts: none is refused.
    const successes: number[] = [];
    for (let i = 0; i < 12; i++) successes.push(await attempt(OWNER_PASSWORD));
    expect(successes).toEqual(Array(12).fill(302));
    // Failures still count: ten wrong passwords, then even the right one waits.
    const failures: number[] = [];
    for (let i = 0; i < 10; i++) failures.push(await attempt('wrong-password-guess'));
    expect(failures).toEqual(Array(10).fill(401));
    expect(await attempt(OWNER_PASSWORD)).toBe(429);
  });

  it('FR-AUTH-004: an authenticated password change needs the current password, applies the policy, and ends every session', async () => {
    const session = await login(NEW_PASSWORD);
    const at = session.tokens!.access_token;
    const change = (b: Record<string, string>) => fetch(h.url('/v1/me/password'), { method: 'POST', headers: { authorization: `Bearer ${at}`, 'content-type': 'application/json' }, body: JSON.stringify(b) });
    const wrong = await change({ currentPassword: 'not-my-password', newPassword: 'copper-meadow-violin-3310' });
    expect(wrong.status).toBe(422);
    expect(await wrong.json()).toMatchObject({ code: 'ERR-VAL-422', errors: [{ pointer: '/currentPassword' }] });
    const weak = await change({ currentPassword: NEW_PASSWORD, newPassword: 'short' });
    expect(weak.status).toBe(422);
    const weakBody = (await weak.json()) as { errors: { pointer: string; detail: string }[] };
    expect(weakBody.errors.map((e) => e.detail.split(':')[0])).toContain('min_length');
    expect(JSON.stringify(weakBody)).not.toContain('short');
    const ok = await change({ currentPassword: NEW_PASSWORD, newPassword: 'copper-meadow-violin-3310' });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { sessionsEnded: number }).sessionsEnded).toBeGreaterThanOrEqual(1);
    // The caller's own token and session are gone too.
    expect((await fetch(h.url('/userinfo'), { headers: { authorization: `Bearer ${at}` } })).status).toBe(401);
    expect((await change({ currentPassword: 'copper-meadow-violin-3310', newPassword: 'another-fine-passphrase-77' })).status).toBe(401);
    expect((await login('copper-meadow-violin-3310')).tokens).toBeDefined();
  });

  it('ERR-AUTH-401: an operator token or no token cannot change a user password', async () => {
    expect((await fetch(h.url('/v1/me/password'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
    const op = await fetch(h.url('/v1/me/password'), { method: 'POST', headers: { authorization: `Bearer ${await h.operatorToken()}`, 'content-type': 'application/json' }, body: '{}' });
    expect(op.status).toBe(401);
  });
});
