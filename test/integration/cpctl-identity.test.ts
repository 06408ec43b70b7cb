/**
 * cpctl for the identity features, as operators and developers use it: apps, tenant enablement,
 * sessions, key rotation. The CLI runs as a real child process against the in-process local server.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness';
import { Browser } from '../support/browser';
import { authorizeUrl as authorizeUrlFor, OWNER_PASSWORD, signIn, tenantWithOwner, type TenantWithOwner } from '../support/identity';
import { ROOT } from '../support/paths';

const run = promisify(execFile);
const cliDir = mkdtempSync(join(tmpdir(), 'cpctl-id-'));
let h: Harness;
let tenant: TenantWithOwner;

async function cpctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['bin/cpctl.js', ...args], { cwd: ROOT, env: { ...process.env, CPCTL_CONFIG_DIR: cliDir }, timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  h = await startHarness();
  tenant = await tenantWithOwner(h, 'cli-acme', h.dataDir);
  const login = await cpctl('login', '--dev', '--api', h.cp.apiUrl, '--issuer', h.cp.issuer, '--json');
  if (login.code !== 0) throw new Error(login.stderr);
});
afterAll(async () => {
  await h?.stop();
});

describe('cpctl: applications, sessions and keys', () => {
  let clientId: string;

  it('FR-SYS-001: cpctl apps register prints the client secret once; apps get never shows it again', async () => {
    const r = await cpctl('--json', 'apps', 'register', '--name', 'CLI App', '--client-type', 'confidential', '--redirect-uri', 'https://cli.example.com/cb');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { id: string; clientSecret: string };
    expect(out.clientSecret).toMatch(/^cps_/);
    clientId = out.id;
    const got = await cpctl('--json', 'apps', 'get', clientId);
    expect(got.stdout).not.toContain('cps_');
    const human = await cpctl('apps', 'rotate-secret', clientId);
    expect(human.stdout).toMatch(/secret\s+cps_/);
    expect(human.stdout).toContain('shown only now');
  });

  it('UC-PROV-001: cpctl tenants enable-app lets the tenant sign in; cpctl apps disable stops it (FR-SYS-003)', async () => {
    expect((await cpctl('tenants', 'enable-app', tenant.tenantId, clientId)).code).toBe(0);
    const url = authorizeUrlFor(h, 'x'.repeat(43), { client_id: clientId, redirect_uri: 'https://cli.example.com/cb', scope: 'openid', tenant: tenant.domain });
    const browser = new Browser();
    expect((await signIn(browser, url, { email: tenant.ownerEmail, password: OWNER_PASSWORD })).callback).toContain('code=');

    const list = await cpctl('--json', 'sessions', 'list', tenant.tenantId, tenant.ownerId);
    const sessions = (JSON.parse(list.stdout) as { items: { id: string; status: string }[] }).items;
    expect(sessions.filter((s) => s.status === 'Active').length).toBeGreaterThanOrEqual(1);
    expect(list.stdout).not.toContain('secretHash');

    const revoked = await cpctl('sessions', 'revoke', tenant.tenantId, tenant.ownerId);
    expect(revoked.stdout).toMatch(/[1-9]\d* session\(s\) ended/);
    const after = JSON.parse((await cpctl('--json', 'sessions', 'list', tenant.tenantId, tenant.ownerId)).stdout) as { items: { status: string }[] };
    expect(after.items.every((s) => s.status === 'Revoked')).toBe(true);
    // The revoked session no longer signs in silently.
    expect(new URL((await browser.request(url)).location!).pathname).toBe('/login');

    expect((await cpctl('apps', 'disable', clientId)).stdout).toContain('Disabled');
    const blocked = await browser.request(url);
    expect(new URL(blocked.location!).searchParams.get('error')).toBe('unauthorized_client');
    const audit = (await h.items(`TENANT#${tenant.tenantId}`)).map((a) => a['action']);
    expect(audit).toEqual(expect.arrayContaining(['tenant.app.enable', 'session.revoke_all']));
  });

  it('ADR-0005: cpctl signing-keys rotate publishes a new key and keeps the previous one', async () => {
    // Issue one token first so that a signing key exists.
    const machine = JSON.parse((await cpctl('--json', 'apps', 'register', '--name', 'M2M', '--client-type', 'confidential', '--grant-type', 'client_credentials')).stdout) as { id: string; clientSecret: string };
    const tok = await fetch(h.url('/token'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${machine.id}:${machine.clientSecret}`).toString('base64')}` }, body: 'grant_type=client_credentials' });
    expect(tok.status).toBe(200);
    const before = (await (await fetch(h.url('/.well-known/jwks.json'))).json()) as { keys: { kid: string }[] };
    const r = JSON.parse((await cpctl('--json', 'signing-keys', 'rotate')).stdout) as { kid: string; previousKid: string; activatesAt: string };
    const after = (await (await fetch(h.url('/.well-known/jwks.json'))).json()) as { keys: { kid: string }[] };
    expect(before.keys.map((k) => k.kid)).toContain(r.previousKid);
    expect(after.keys.map((k) => k.kid).sort()).toEqual([r.kid, r.previousKid].sort());
    // Staged: published now, signing only after the publication lead; tokens still carry the old kid.
    expect(Date.parse(r.activatesAt) - Date.now()).toBeGreaterThan(500_000);
    const kidOfNewToken = async (): Promise<string | undefined> => {
      const res = await fetch(h.url('/token'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${machine.id}:${machine.clientSecret}`).toString('base64')}` }, body: 'grant_type=client_credentials' });
      return decodeProtectedHeader(((await res.json()) as { access_token: string }).access_token).kid;
    };
    expect(await kidOfNewToken()).toBe(r.previousKid);
    // A second staged rotation waits for the first; --now (suspected compromise) does not.
    const again = await cpctl('signing-keys', 'rotate');
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/pending/);
    const urgent = JSON.parse((await cpctl('--json', 'signing-keys', 'rotate', '--now')).stdout) as { kid: string; previousKid: string };
    expect(urgent.previousKid).toBe(r.previousKid);
    expect(await kidOfNewToken()).toBe(urgent.kid);
    const finalKids = ((await (await fetch(h.url('/.well-known/jwks.json'))).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    expect(finalKids.sort()).toEqual([urgent.kid, r.previousKid].sort());
    // A compromise of the key store: every older key leaves the JWKS at once.
    const wiped = JSON.parse((await cpctl('--json', 'signing-keys', 'rotate', '--now', '--retire-previous')).stdout) as { kid: string };
    expect(((await (await fetch(h.url('/.well-known/jwks.json'))).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid)).toEqual([wiped.kid]);
    expect(await kidOfNewToken()).toBe(wiped.kid);
  });

  it('ERR-VAL-400: a rotation request with a malformed body is refused and changes no key', async () => {
    const op = await h.operatorToken();
    const jwks = async (): Promise<string[]> => ((await (await fetch(h.url('/.well-known/jwks.json'))).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid).sort();
    const before = await jwks();
    for (const body of ['{"immediate":"yes"}', '{"immediate":true,"extra":1}', '{"retirePrevious":true}', 'not json']) {
      const res = await fetch(h.url('/v1/keys/rotate'), { method: 'POST', headers: { authorization: `Bearer ${op}`, 'content-type': 'application/json' }, body });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe('ERR-VAL-400');
    }
    expect(await jwks()).toEqual(before);
  });

  it('ERR-AUTH-403: a developer cannot rotate keys or list sessions (operators; sessions also the tenant’s own Owners and Administrators)', async () => {
    const dev = await h.developerToken();
    for (const [method, path] of [['POST', '/v1/keys/rotate'], ['GET', `/v1/tenants/${tenant.tenantId}/users/${tenant.ownerId}/sessions`]] as const) {
      const res = await fetch(h.url(path), { method, headers: { authorization: `Bearer ${dev}` } });
      expect(res.status).toBe(403);
    }
  });
});
