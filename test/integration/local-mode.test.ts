/**
 * Issue #2 acceptance, end to end as a developer would do it: `npm start` (bin/local.ts) as a real
 * process, `cpctl` as a real process, Ctrl-C, start again, the data is still there.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../shared/adapters/local/dynamodb-local';
import { ROOT } from '../support/paths';

const dataDir = mkdtempSync(join(tmpdir(), 'cp-local-'));
const cliDir = mkdtempSync(join(tmpdir(), 'cpctl-'));
let running: ChildProcess | undefined;

interface Ports {
  api: number;
  idp: number;
  ddb: number;
}

async function startLocal(ports: Ports): Promise<{ proc: ChildProcess; output: () => string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(ports.api), OPERATOR_IDP_PORT: String(ports.idp), DYNAMODB_LOCAL_PORT: String(ports.ddb), DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running = proc;
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 90_000;
  while (!out.includes('ready in')) {
    if (proc.exitCode !== null) throw new Error(`npm start exited: ${out}`);
    if (Date.now() > deadline) throw new Error(`npm start did not become ready: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, output: () => out };
}

async function stopLocal(proc: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  proc.kill('SIGINT');
  const code = await exited;
  running = undefined;
  return code;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function cpctl(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/cpctl.js', ...args], { cwd: ROOT, env: { ...process.env, CPCTL_CONFIG_DIR: cliDir }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

afterAll(async () => {
  if (running) await stopLocal(running);
});

describe('Local mode (issue #2 acceptance)', () => {
  it('UC-PROV-001: npm start serves /health; cpctl login and tenants create; the tenant survives a restart; Ctrl-C stops every child', async () => {
    const ports: Ports = { api: await freePort(), idp: await freePort(), ddb: await freePort() };
    const api = `http://localhost:${ports.api}`;
    const issuer = `http://localhost:${ports.idp}`;

    const first = await startLocal(ports);
    expect(first.output()).toContain(api);
    expect((await fetch(`${api}/health`)).status).toBe(200);

    const login = cpctl(['login', '--dev', '--api', api, '--issuer', issuer, '--json']);
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    expect(JSON.parse(login.stdout)).toMatchObject({ region: 'local', api });

    const created = cpctl(['--json', 'tenants', 'create', '--name', 'Persisted Co', '--domain', 'persisted', '--plan', 'Free', '--owner-email', 'owner@persisted.example']);
    expect(created.code).toBe(0);
    const tenantId = (JSON.parse(created.stdout) as { tenant: { id: string } }).tenant.id;

    const dup = cpctl(['tenants', 'create', '--name', 'Again', '--domain', 'persisted', '--plan', 'Free', '--owner-email', 'x@persisted.example']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('ERR-VAL-409');

    expect(await stopLocal(first.proc)).toBe(0);
    // Ctrl-C took DynamoDB Local, the API and the dev IdP down with it.
    expect(await portOpen(ports.ddb)).toBe(false);
    expect(await portOpen(ports.api)).toBe(false);
    expect(await portOpen(ports.idp)).toBe(false);

    const second = await startLocal(ports);
    expect(second.output()).not.toContain('(created)');
    // The dev IdP's key persisted too, so the stored token still verifies after the restart.
    const got = cpctl(['--json', 'tenants', 'get', tenantId]);
    expect(got.stderr).toBe('');
    expect(JSON.parse(got.stdout)).toMatchObject({ id: tenantId, domain: 'persisted', status: 'Active' });
    const list = cpctl(['tenants', 'list']);
    expect(list.stdout).toMatch(/persisted\s+Persisted Co\s+Free\s+Active\s+local/);
    expect(await stopLocal(second.proc)).toBe(0);
  }, 240_000);

  it('CON-SEC-009: cpctl without a login says what to do and exits 2', () => {
    const r = spawnSync(process.execPath, ['bin/cpctl.js', 'tenants', 'list'], { cwd: ROOT, env: { ...process.env, CPCTL_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'cpctl-empty-')) }, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('cpctl login');
  });
});
