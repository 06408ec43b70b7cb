/**
 * The local dev IdP and cpctl's login library, end to end over real HTTP (FR-SYS-004).
 * Tokens are verified the way the API verifies them: signature against the issuer's JWKS, iss, aud,
 * groups claim.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createRemoteJWKSet, decodeJwt, importJWK, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEV_ACCOUNTS, DEV_CLIENT_ID, startDevIdp, type DevIdp } from '../../shared/adapters/local/dev-idp';
import {
  loginWithDeviceCode,
  loginWithPassword,
  OperatorLoginError,
  refreshTokens,
  type OperatorTokens,
} from '../../shared/cli/operator-login';

const AUDIENCE = 'https://api.control-plane.local';
const OPERATOR_GROUP = 'cp-operators';
const ACCESS_TTL = 900;

function account(email: string): { email: string; password: string; sub: string } {
  const found = DEV_ACCOUNTS.find((a) => a.email === email);
  if (!found) throw new Error(`no dev account ${email}`);
  return found;
}
const operator = account('operator@example.com');
const developer = account('developer@example.com');

async function jwksUriOf(issuer: string): Promise<URL> {
  const res = await fetch(`${issuer}/.well-known/openid-configuration`);
  expect(res.status).toBe(200);
  const metadata = (await res.json()) as { issuer: string; jwks_uri: string };
  expect(metadata.issuer).toBe(issuer);
  return new URL(metadata.jwks_uri);
}

/** What the API does with an operator token (minus JIT provisioning): signature, iss, aud. */
async function verifyAccessToken(token: string, issuer: string, audience = AUDIENCE): Promise<JWTPayload> {
  const jwks = createRemoteJWKSet(await jwksUriOf(issuer));
  const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer, audience, algorithms: ['ES256'] });
  expect(protectedHeader.alg).toBe('ES256');
  expect(typeof protectedHeader.kid).toBe('string');
  return payload;
}

/** The OperatorLoginError a login attempt fails with; fails the test if it succeeds or throws anything else. */
async function loginError(attempt: Promise<OperatorTokens>): Promise<OperatorLoginError> {
  const outcome = await attempt.then(
    () => new Error('expected the login to fail, but it returned tokens'),
    (e: unknown) => e,
  );
  expect(outcome).toBeInstanceOf(OperatorLoginError);
  return outcome as OperatorLoginError;
}

function passwordLogin(idp: DevIdp, email: string, password: string): Promise<OperatorTokens> {
  return loginWithPassword({ issuer: idp.issuer, clientId: DEV_CLIENT_ID, audience: AUDIENCE, username: email, password });
}

// ---------------------------------------------------------------------------------------------
// A minimal "browser" for the device flow's verification pages: cookies, redirects, forms.

class Browser {
  readonly #cookies = new Map<string, string>();

  async request(url: URL, init: { method?: string; form?: URLSearchParams } = {}): Promise<{ url: URL; status: number; html: string }> {
    let current = url;
    let method = init.method ?? 'GET';
    let body = init.form;
    for (let hop = 0; hop < 15; hop++) {
      const cookie = [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const res = await fetch(current, {
        method,
        redirect: 'manual',
        headers: {
          ...(cookie ? { cookie } : {}),
          ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        ...(body ? { body } : {}),
      });
      for (const header of res.headers.getSetCookie()) {
        const [pair = ''] = header.split(';');
        const eq = pair.indexOf('=');
        const name = pair.slice(0, eq).trim();
        const value = pair.slice(eq + 1).trim();
        if (value === '' || /expires=Thu, 01 Jan 1970/i.test(header)) this.#cookies.delete(name);
        else this.#cookies.set(name, value);
      }
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel();
        current = new URL(location, current);
        method = 'GET';
        body = undefined;
        continue;
      }
      return { url: current, status: res.status, html: await res.text() };
    }
    throw new Error('too many redirects');
  }

  /** Submit the form whose id or action matches, with its hidden fields plus `values`. */
  async submit(page: { url: URL; html: string }, match: RegExp, values: Record<string, string>) {
    const form = [...page.html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].find((m) => match.test(m[1] ?? ''));
    if (!form) throw new Error(`no form matching ${match} on ${page.url.pathname}`);
    const action = /action="([^"]*)"/.exec(form[1] ?? '')?.[1] ?? '';
    const fields = new URLSearchParams();
    for (const input of (form[2] ?? '').matchAll(/<input\b([^>]*)>/gi)) {
      const attrs = input[1] ?? '';
      const name = /name="([^"]*)"/.exec(attrs)?.[1];
      const value = /value="([^"]*)"/.exec(attrs)?.[1];
      if (name && /type="hidden"/.test(attrs)) fields.set(name, value ?? '');
    }
    for (const [k, v] of Object.entries(values)) fields.set(k, v);
    return this.request(new URL(action.replaceAll('&amp;', '&'), page.url), { method: 'POST', form: fields });
  }
}

/** The operator, at a browser, approving (or aborting) a device login. */
async function approveDevice(
  verificationUri: string,
  userCode: string,
  who: { email: string; password: string },
  decision: 'approve' | 'abort' = 'approve',
): Promise<{ status: number; html: string }> {
  const browser = new Browser();
  const input = await browser.request(new URL(verificationUri));
  expect(input.status).toBe(200);
  const confirm = await browser.submit(input, /deviceInputForm/, { user_code: userCode });
  expect(confirm.status).toBe(200);
  expect(confirm.html).toContain(userCode);
  if (decision === 'abort') return browser.submit(confirm, /deviceConfirmForm/, { abort: 'yes' });
  const login = await browser.submit(confirm, /deviceConfirmForm/, {});
  expect(login.url.pathname).toMatch(/^\/interaction\//);
  return browser.submit(login, /action="[^"]*\/login"/, { email: who.email, password: who.password });
}

// ---------------------------------------------------------------------------------------------

describe('dev IdP and cpctl login', () => {
  let dataDir: string;
  let idp: DevIdp;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dev-idp-test-'));
    idp = await startDevIdp({
      port: 0,
      dataDir,
      audience: AUDIENCE,
      accessTokenTtlSeconds: ACCESS_TTL,
      deviceFlowIntervalSeconds: 1,
    });
  });

  afterAll(async () => {
    await idp?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('FR-SYS-004: the dev IdP issues operator access tokens our API can verify', async () => {
    expect(idp.issuer).toBe(`http://localhost:${idp.port}`);
    expect(idp.port).toBeGreaterThan(0);

    const before = Math.floor(Date.now() / 1000);
    const tokens = await passwordLogin(idp, operator.email, operator.password);

    expect(tokens.issuer).toBe(idp.issuer);
    const claims = await verifyAccessToken(tokens.accessToken, idp.issuer);
    expect(claims.iss).toBe(idp.issuer);
    expect(claims.aud).toBe(AUDIENCE);
    expect(claims.sub).toBe(operator.sub);
    expect(claims.email).toBe(operator.email);
    expect(claims.groups).toEqual(expect.arrayContaining([OPERATOR_GROUP]));
    expect(claims.client_id).toBe(DEV_CLIENT_ID);
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(ACCESS_TTL);
    expect(tokens.expiresAt).toBeGreaterThanOrEqual(before + ACCESS_TTL - 2);
    expect(tokens.expiresAt).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + ACCESS_TTL + 1);

    // The ID token is for cpctl itself and carries the same identity.
    expect(tokens.idToken).toBeDefined();
    const id = await jwtVerify(tokens.idToken ?? '', createRemoteJWKSet(await jwksUriOf(idp.issuer)), {
      issuer: idp.issuer,
      audience: DEV_CLIENT_ID,
    });
    expect(id.payload.sub).toBe(operator.sub);
    expect(id.payload.email).toBe(operator.email);
    expect(id.payload.groups).toEqual(expect.arrayContaining([OPERATOR_GROUP]));

    // offline_access was granted, so cpctl can refresh.
    expect(tokens.refreshToken).toBeTruthy();
  });

  it('FR-SYS-004: a token for another audience is rejected by the API-side check', async () => {
    const tokens = await passwordLogin(idp, operator.email, operator.password);
    await expect(verifyAccessToken(tokens.accessToken, idp.issuer, 'https://some-other-api.example')).rejects.toThrow(
      /aud/,
    );
  });

  it('FR-SYS-004: a wrong password yields an error and no token', async () => {
    const wrong = 'definitely-not-the-password';
    const err = await loginError(passwordLogin(idp, operator.email, wrong));
    expect(err.code).toBe('credentials_rejected');
    expect(err.message).not.toContain(wrong);

    const unknown = await loginError(passwordLogin(idp, 'nobody@example.com', operator.password));
    expect(unknown.code).toBe('credentials_rejected');
    expect(unknown.message).not.toContain(operator.password);
  });

  it('FR-SYS-004: the developer account signs in but is not in the operator group', async () => {
    const tokens = await passwordLogin(idp, developer.email, developer.password);
    const claims = await verifyAccessToken(tokens.accessToken, idp.issuer);
    expect(claims.sub).toBe(developer.sub);
    expect(claims.email).toBe(developer.email);
    expect(Array.isArray(claims.groups)).toBe(true);
    expect(claims.groups).not.toContain(OPERATOR_GROUP);
  });

  it('FR-SYS-004: password login refuses a non-loopback issuer without contacting it', async () => {
    const err = await loginError(
      loginWithPassword({
        issuer: 'https://idp.example.com',
        clientId: DEV_CLIENT_ID,
        audience: AUDIENCE,
        username: operator.email,
        password: operator.password,
      }),
    );
    expect(err.code).toBe('invalid_issuer');
    expect(err.message).not.toContain(operator.password);
  });

  it('FR-SYS-004: refreshing yields a new access token for the same operator and audience', async () => {
    const first = await passwordLogin(idp, operator.email, operator.password);
    const refreshed = await refreshTokens({
      issuer: idp.issuer,
      clientId: DEV_CLIENT_ID,
      audience: AUDIENCE,
      refreshToken: first.refreshToken ?? '',
    });
    expect(refreshed.accessToken).not.toBe(first.accessToken);
    const claims = await verifyAccessToken(refreshed.accessToken, idp.issuer);
    expect(claims.sub).toBe(operator.sub);
    expect(claims.groups).toEqual(expect.arrayContaining([OPERATOR_GROUP]));
    expect(refreshed.refreshToken).toBeTruthy();
  });

  it('FR-SYS-004: cpctl device login completes once the operator approves in a browser', async () => {
    let browserDone: Promise<{ status: number; html: string } | undefined> | undefined;
    let browserError: unknown;
    let prompted: { verificationUri: string; verificationUriComplete?: string; userCode: string; expiresIn: number } | undefined;
    // If the simulated browser fails, stop polling at once instead of waiting for the test timeout.
    const stopPolling = new AbortController();

    const result = await loginWithDeviceCode({
      issuer: idp.issuer,
      clientId: DEV_CLIENT_ID,
      audience: AUDIENCE,
      signal: stopPolling.signal,
      onPrompt: (p) => {
        prompted = p;
        browserDone = approveDevice(p.verificationUri, p.userCode, operator).catch((e: unknown) => {
          browserError = e;
          stopPolling.abort();
          return undefined;
        });
      },
    }).catch((e: unknown) => e);
    const finalPage = await browserDone;
    if (browserError) throw browserError;
    if (result instanceof Error) throw result;
    const tokens = result as OperatorTokens;

    expect(prompted?.verificationUri).toBe(`${idp.issuer}/device`);
    expect(prompted?.verificationUriComplete).toContain('user_code=');
    expect(prompted?.userCode).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    expect(prompted?.expiresIn).toBeGreaterThan(0);
    expect(finalPage?.status).toBe(200);
    expect(finalPage?.html).toContain('The device is signed in');

    const claims = await verifyAccessToken(tokens.accessToken, idp.issuer);
    expect(claims.sub).toBe(operator.sub);
    expect(claims.email).toBe(operator.email);
    expect(claims.groups).toEqual(expect.arrayContaining([OPERATOR_GROUP]));
    expect(tokens.idToken).toBeDefined();
    expect(decodeJwt(tokens.idToken ?? '').email).toBe(operator.email);
  });

  it('FR-SYS-004: cpctl device login fails when the user aborts in the browser', async () => {
    let browserDone: Promise<unknown> | undefined;
    const err = await loginError(
      loginWithDeviceCode({
        issuer: idp.issuer,
        clientId: DEV_CLIENT_ID,
        audience: AUDIENCE,
        onPrompt: (p) => {
          browserDone = approveDevice(p.verificationUri, p.userCode, operator, 'abort');
        },
      }),
    );
    await browserDone;
    expect(err.code).toBe('access_denied');
  });

  it('FR-SYS-004: cpctl device login can be cancelled by the caller', async () => {
    const controller = new AbortController();
    const err = await loginError(
      loginWithDeviceCode({
        issuer: idp.issuer,
        clientId: DEV_CLIENT_ID,
        audience: AUDIENCE,
        signal: controller.signal,
        onPrompt: () => setTimeout(() => controller.abort(), 50),
      }),
    );
    expect(err.code).toBe('cancelled');
  });

  it('FR-SYS-004: privateJwks is the real signing key, and expired tokens are rejected', async () => {
    const jwk = idp.privateJwks.keys[0];
    expect(jwk?.d).toBeTruthy();
    const key = await importJWK(jwk ?? {}, 'ES256');
    const now = Math.floor(Date.now() / 1000);
    const mint = (iat: number, exp: number) =>
      new SignJWT({ email: operator.email, groups: [OPERATOR_GROUP] })
        .setProtectedHeader({ alg: 'ES256', kid: jwk?.kid ?? '', typ: 'at+jwt' })
        .setIssuer(idp.issuer)
        .setAudience(AUDIENCE)
        .setSubject(operator.sub)
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .sign(key);

    await expect(verifyAccessToken(await mint(now, now + 60), idp.issuer)).resolves.toMatchObject({ sub: operator.sub });
    await expect(verifyAccessToken(await mint(now - 7200, now - 3600), idp.issuer)).rejects.toThrow(/exp/);
  });
});

describe('dev IdP signing key persistence', () => {
  let dataDir: string;
  const running: DevIdp[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dev-idp-keys-'));
  });

  afterAll(async () => {
    await Promise.all(running.map((i) => i.close()));
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('FR-SYS-004: tokens issued before a dev IdP restart still verify after it', async () => {
    const first = await startDevIdp({ port: 0, dataDir, audience: AUDIENCE });
    running.push(first);
    const tokens = await passwordLogin(first, operator.email, operator.password);
    const file = join(dataDir, 'dev-idp-jwks.json');
    // Private key material: owner-only.
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await readFile(file, 'utf8')) as { keys: { kid: string }[] };
    expect(stored.keys.map((k) => k.kid)).toEqual(first.privateJwks.keys.map((k) => k.kid));
    await first.close();
    running.pop();

    // Same port, so the same issuer; the key set comes from the file.
    const second = await startDevIdp({ port: first.port, dataDir, audience: AUDIENCE });
    running.push(second);
    expect(second.issuer).toBe(first.issuer);
    expect(second.privateJwks.keys.map((k) => k.kid)).toEqual(first.privateJwks.keys.map((k) => k.kid));
    const claims = await verifyAccessToken(tokens.accessToken, second.issuer);
    expect(claims.sub).toBe(operator.sub);
  });

  it('FR-SYS-004: without a dataDir every start has a new key, so old tokens stop verifying', async () => {
    const first = await startDevIdp({ port: 0, audience: AUDIENCE });
    running.push(first);
    const tokens = await passwordLogin(first, operator.email, operator.password);
    await first.close();
    running.splice(running.indexOf(first), 1);

    const second = await startDevIdp({ port: first.port, audience: AUDIENCE });
    running.push(second);
    expect(second.privateJwks.keys[0]?.kid).not.toBe(first.privateJwks.keys[0]?.kid);
    await expect(verifyAccessToken(tokens.accessToken, second.issuer)).rejects.toThrow();
  });
});
