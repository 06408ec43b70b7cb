/**
 * Tamper evidence end to end (issue #6 acceptance, ADR-0008): audit records produced by real API calls
 * flow through the local audit queue and consumer into the table and the batch ledger; the digest job
 * chains and signs them; then the table is tampered with directly and `cpctl audit verify` — a real child
 * process, logged in as the dev Auditor — must name every change, and nothing else.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as digestJob } from '../../functions/jobs/audit-digest';
import type { Finding } from '../../shared/domain/audit-digest';
import { api, startHarness, type Harness } from '../support/harness';
import { ROOT } from '../support/paths';

const run = promisify(execFile);
const cliDir = mkdtempSync(join(tmpdir(), 'cpctl-audit-'));
let h: Harness;

async function cpctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['bin/cpctl.js', ...args], { cwd: ROOT, env: { ...process.env, CPCTL_CONFIG_DIR: cliDir }, timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

interface Report {
  tampered: boolean;
  records: number;
  batches: number;
  findings: Finding[];
}

async function verifyJson(): Promise<{ code: number; report: Report; stderr: string }> {
  const r = await cpctl('--json', 'audit', 'verify');
  return { code: r.code, report: JSON.parse(r.stdout || '{}') as Report, stderr: r.stderr };
}

async function provision(domain: string): Promise<string> {
  const res = await api(h, 'POST', '/v1/tenants', { token: await h.operatorToken(), body: { name: `${domain} Inc`, domain, plan: 'Pro', ownerEmail: `owner@${domain}.example` } });
  if (res.status !== 201) throw new Error(`provisioning failed: ${JSON.stringify(res.body)}`);
  return (res.body['tenant'] as { id: string }).id;
}

type Item = Record<string, unknown>;
let tenantA: string;
let tenantB: string;
let erasedUserId: string;

beforeAll(async () => {
  h = await startHarness();
  const login = await cpctl('login', '--dev', '--api', h.cp.apiUrl, '--issuer', h.cp.issuer, '--username', 'auditor@example.com', '--password', 'auditor-dev-password', '--json');
  if (login.code !== 0) throw new Error(login.stderr);
  // Audit records from real calls: provisioning (FR-LOG-003), an invitation, and the erasure of the invitee.
  tenantA = await provision('tamper-a');
  tenantB = await provision('tamper-b');
  const operator = await h.operatorToken();
  const invited = await api(h, 'POST', `/v1/tenants/${tenantA}/invitations`, { token: operator, body: { email: 'erin@tamper-a.example', role: 'User' } });
  if (invited.status !== 201) throw new Error(`invitation failed: ${JSON.stringify(invited.body)}`);
  erasedUserId = (invited.body['user'] as { id: string }).id;
  await h.settle();
  const erased = await api(h, 'POST', `/v1/tenants/${tenantA}/users/${erasedUserId}/erase`, { token: operator, body: { confirm: 'erin@tamper-a.example' } });
  if (erased.status !== 200) throw new Error(`erasure failed: ${JSON.stringify(erased.body)}`);
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

describe('cpctl audit verify (FR-LOG-001, CON-SEC-002)', () => {
  it('ADR-0007: digests and the records they cover are for Auditors only', async () => {
    const asOperator = await api(h, 'GET', '/v1/audit/digests', { token: await h.operatorToken() });
    expect(asOperator.status).toBe(403);
    const asDeveloper = await api(h, 'GET', '/v1/audit/digests/1/records', { token: await h.developerToken() });
    expect(asDeveloper.status).toBe(403);
    expect((await api(h, 'GET', '/v1/audit/digests')).status).toBe(401);
    // Before the first digest the chain is empty: nothing to accuse, but it says so.
    const first = await verifyJson();
    expect(first.code).toBe(0);
    expect(first.report.findings).toEqual([expect.objectContaining({ kind: 'digest-stale', tampering: false })]);
  });

  it('FR-LOG-001: the digest job chains every delivered batch into signed digests; an untouched log verifies clean (exit 0), the erased user\'s records as pseudonymised', async () => {
    // Everything that writes audit records (including the 403s above and the auditor's first call) has been delivered.
    await h.settle();
    // The job leaves the last minute to late writers; a test cannot wait that long, so it runs "a minute later".
    const now = Date.now() + 61_000;
    const ran = await digestJob({ now: new Date(now).toISOString() });
    expect(ran.seq).toBe(1);
    expect(ran.batches).toBeGreaterThan(0);
    expect(ran.records).toBeGreaterThanOrEqual(6);
    // A replayed run finds nothing new to cover; a later one writes an empty digest (nothing was delivered).
    expect(await digestJob({ now: new Date(now).toISOString() })).toEqual({ seq: 1, batches: 0, records: 0 });
    expect(await digestJob({ now: new Date(now + 1000).toISOString() })).toEqual({ seq: 2, batches: 0, records: 0 });
    const [d1, d2] = await h.items('PLATFORM#AUDITDIGEST');
    expect(d1).toMatchObject({ seq: 1, entity: 'AuditDigest' });
    expect(JSON.parse(String(d1!['document']))).toMatchObject({ seq: 1, previousDigestHash: null, algorithm: 'ECDSA_P256_SHA256', recordCount: ran.records });
    expect(JSON.parse(String(d2!['document']))).toMatchObject({ seq: 2, previousDigestHash: d1!['hash'], batches: [], recordCount: 0 });

    const clean = await verifyJson();
    expect(clean.stderr).toBe('');
    expect(clean.code).toBe(0);
    expect(clean.report).toMatchObject({ tampered: false, records: ran.records });
    // CON-SEC-002: reading the records behind a digest is itself recorded, on the first page of each digest.
    await h.settle();
    const reads = (await h.items('PLATFORM#AUDIT')).filter((i) => i['action'] === 'audit.digest.read' && i['outcome'] === 'Success');
    expect(reads.map((i) => i['resource'])).toContain('audit-digest:1');
    const erasedRecords = (await h.items(`TENANT#${tenantA}`)).filter((i) => String(i['SK']).startsWith('AUDIT#') && i['resource'] === `user:${erasedUserId}` && i['action'] !== 'user.data.erase');
    expect(erasedRecords.length).toBeGreaterThan(0);
    expect(clean.report.findings.filter((f) => f.tampering)).toEqual([]);
    expect(clean.report.findings.filter((f) => f.kind === 'pseudonymised').map((f) => f.id)).toEqual(expect.arrayContaining(erasedRecords.map((i) => String(i['id']))));
    const human = await cpctl('audit', 'verify');
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('the audit trail is intact');
  });

  it('FR-LOG-001: one changed byte, one deleted record and two swapped records → exit 1, each named with kind, table key and record id; the erasure still is not tampering', async () => {
    const audit = async (pk: string): Promise<Item[]> => (await h.items(pk)).filter((i) => String(i['SK']).startsWith('AUDIT#') && (i['metadata'] as Item)['erased'] !== true);
    const candidates = [...(await audit(`TENANT#${tenantB}`)), ...(await audit('PLATFORM#AUDIT'))];
    expect(candidates.length).toBeGreaterThanOrEqual(4);
    const [changed, deleted, x, y] = candidates as [Item, Item, Item, Item];
    const table = h.cp.tableName;

    // One byte of `action`.
    const action = String(changed['action']);
    await h.db.send(new PutCommand({ TableName: table, Item: { ...changed, action: `${action.slice(0, -1)}${action.endsWith('x') ? 'y' : 'x'}` } }));
    await h.db.send(new DeleteCommand({ TableName: table, Key: { PK: deleted['PK'], SK: deleted['SK'] } }));
    // Swap the contents of two records, keeping each item's key.
    await h.db.send(new PutCommand({ TableName: table, Item: { ...y, PK: x['PK'], SK: x['SK'] } }));
    await h.db.send(new PutCommand({ TableName: table, Item: { ...x, PK: y['PK'], SK: y['SK'] } }));

    const r = await verifyJson();
    expect(r.code).toBe(1);
    expect(r.report.tampered).toBe(true);
    const tampering = r.report.findings.filter((f) => f.tampering).map((f) => ({ kind: f.kind, pk: f.pk, sk: f.sk, id: f.id }));
    const named = (kind: string, i: Item): { kind: string; pk: unknown; sk: unknown; id: unknown } => ({ kind, pk: i['PK'], sk: i['SK'], id: i['id'] });
    expect(tampering).toHaveLength(4);
    expect(tampering).toEqual(expect.arrayContaining([named('altered', changed), named('missing', deleted), named('reordered', x), named('reordered', y)]));
    expect(r.report.findings.filter((f) => f.kind === 'pseudonymised').length).toBeGreaterThan(0);

    const human = await cpctl('audit', 'verify');
    expect(human.code).toBe(1);
    for (const [kind, i] of [['altered', changed], ['missing', deleted], ['reordered', x], ['reordered', y]] as const) {
      expect(human.stdout).toMatch(new RegExp(`${kind}\\s+${String(i['PK'])} ${String(i['SK']).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+record ${String(i['id'])}`));
    }
    expect(human.stdout).toContain('TAMPERED');

    // --from-seq checks the records of later digests only (digest 2 is empty); digest 1 still anchors the chain.
    const later = await cpctl('audit', 'verify', '--from-seq', '2', '--json');
    expect(later.code).toBe(0);
    expect(JSON.parse(later.stdout)).toMatchObject({ tampered: false, records: 0, fromSeq: 2 });
  });
});
