/**
 * Issue #5 acceptance, flag management (FR-FLAG-001, DAT-FLAG): typed operator overrides over the plan's
 * defaults, a version that moves with every change, and every change audited with before and after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as purgeJob } from '../../functions/jobs/purge-tenants';
import { api, startHarness, type Harness } from '../support/harness';

let h: Harness;
let operator: string;

beforeAll(async () => {
  h = await startHarness();
  operator = await h.operatorToken();
});
afterAll(async () => {
  await h?.stop();
});

interface FlagsOut {
  version: number;
  flags: { key: string; type: string; value: unknown; source: string }[];
}

async function createTenant(domain: string, plan: 'Free' | 'Pro' | 'Enterprise'): Promise<string> {
  const res = await api(h, 'POST', '/v1/tenants', { token: operator, body: { name: `${domain} Inc`, domain, plan, ownerEmail: `owner@${domain}.example` } });
  if (res.status !== 201) throw new Error(`provisioning failed: ${JSON.stringify(res.body)}`);
  return (res.body['tenant'] as { id: string }).id;
}

async function list(tenantId: string): Promise<FlagsOut> {
  const res = await api(h, 'GET', `/v1/tenants/${tenantId}/flags`, { token: operator });
  expect(res.status).toBe(200);
  return res.body as unknown as FlagsOut;
}

function byKey(out: FlagsOut): Record<string, string> {
  return Object.fromEntries(out.flags.map((f) => [f.key, `${f.type}:${JSON.stringify(f.value)}/${f.source}`]));
}

describe('Flag overrides (FR-FLAG-001)', () => {
  let tenantId: string;
  beforeAll(async () => {
    tenantId = await createTenant('flags-a', 'Pro');
  });

  it('a new tenant has its plan flags at version 1', async () => {
    const out = await list(tenantId);
    expect(out.version).toBe(1);
    expect(byKey(out)).toEqual({
      ai_module_enabled: 'boolean:true/plan',
      sso_enabled: 'boolean:false/plan',
      audit_export_enabled: 'boolean:true/plan',
      advanced_analytics: 'boolean:false/plan',
    });
  });

  it('sets boolean, string, number and object overrides; each change increments the version', async () => {
    const sets = [
      ['sso_enabled', { value: true }, 'boolean:true/override'],
      ['theme', { value: 'dark' }, 'string:"dark"/override'],
      ['max_seats', { value: 25 }, 'number:25/override'],
      ['limits', { value: { exports: { perDay: 3 }, regions: ['eu'] } }, 'object:{"exports":{"perDay":3},"regions":["eu"]}/override'],
      ['label', { value: 'true', type: 'string' }, 'string:"true"/override'],
    ] as const;
    let version = (await list(tenantId)).version;
    for (const [key, body, expected] of sets) {
      const res = await api(h, 'PUT', `/v1/tenants/${tenantId}/flags/${key}`, { token: operator, body });
      expect({ key, status: res.status }).toEqual({ key, status: 200 });
      expect(res.body['version']).toBe(version + 1);
      const out = await list(tenantId);
      expect(out.version).toBe(version + 1);
      expect(byKey(out)[key]).toBe(expected);
      version = out.version;
    }
    // Changing an override's type is allowed.
    const retyped = await api(h, 'PUT', `/v1/tenants/${tenantId}/flags/max_seats`, { token: operator, body: { value: 'unlimited' } });
    expect(retyped.body).toEqual({ version: version + 1, flag: { key: 'max_seats', type: 'string', value: 'unlimited', source: 'override' } });
  });

  it('refuses bad keys, mismatched types and oversized objects with 400, changing nothing', async () => {
    const before = await list(tenantId);
    for (const [key, body] of [
      ['Bad_Key', { value: true }],
      ['ok_key', { value: 'yes', type: 'boolean' }],
      ['ok_key', { value: null }],
      ['ok_key', { value: { blob: 'x'.repeat(5000) } }],
    ] as const) {
      const res = await api(h, 'PUT', `/v1/tenants/${tenantId}/flags/${key}`, { token: operator, body });
      expect({ key, status: res.status, code: res.body['code'] }).toEqual({ key, status: 400, code: 'ERR-VAL-400' });
    }
    expect(await list(tenantId)).toEqual(before);
  });

  it('unset restores the plan default, or removes a flag the plan lacks; unsetting a plan flag is 404', async () => {
    const v = (await list(tenantId)).version;
    const sso = await api(h, 'DELETE', `/v1/tenants/${tenantId}/flags/sso_enabled`, { token: operator });
    expect(sso).toMatchObject({ status: 200, body: { version: v + 1, flag: { key: 'sso_enabled', type: 'boolean', value: false, source: 'plan' } } });
    const theme = await api(h, 'DELETE', `/v1/tenants/${tenantId}/flags/theme`, { token: operator });
    expect(theme).toMatchObject({ status: 200, body: { version: v + 2, flag: null } });
    const out = await list(tenantId);
    expect(byKey(out)['sso_enabled']).toBe('boolean:false/plan');
    expect(byKey(out)['theme']).toBeUndefined();
    expect((await api(h, 'DELETE', `/v1/tenants/${tenantId}/flags/ai_module_enabled`, { token: operator })).status).toBe(404);
    expect((await api(h, 'DELETE', `/v1/tenants/${tenantId}/flags/theme`, { token: operator })).status).toBe(404);
    expect((await list(tenantId)).version).toBe(v + 2);
  });

  it('a plan change re-applies the defaults, keeps the overrides, and bumps the version', async () => {
    await api(h, 'PUT', `/v1/tenants/${tenantId}/flags/ai_module_enabled`, { token: operator, body: { value: 'beta' } });
    const before = await list(tenantId);
    const res = await api(h, 'PUT', `/v1/tenants/${tenantId}/plan`, { token: operator, body: { plan: 'Enterprise' } });
    expect(res.status).toBe(200);
    const after = await list(tenantId);
    expect(after.version).toBe(before.version + 1);
    expect(byKey(after)).toMatchObject({
      ai_module_enabled: 'string:"beta"/override',
      sso_enabled: 'boolean:true/plan',
      advanced_analytics: 'boolean:true/plan',
      audit_export_enabled: 'boolean:true/plan',
      max_seats: 'string:"unlimited"/override',
      limits: expect.stringMatching(/^object:.*\/override$/),
    });
    // Unsetting now restores the NEW plan's default.
    const unset = await api(h, 'DELETE', `/v1/tenants/${tenantId}/flags/ai_module_enabled`, { token: operator });
    expect(unset.body).toMatchObject({ flag: { value: true, source: 'plan' } });
  });

  it('audits every change with the previous and the new value', async () => {
    const audit = (await h.items(`TENANT#${tenantId}`)).filter((i) => i['entity'] === 'Audit' && String(i['action']).startsWith('flag.') && i['outcome'] === 'Success');
    const set = audit.find((a) => a['action'] === 'flag.set' && (a['metadata'] as { key: string }).key === 'max_seats' && (a['metadata'] as { next: { type: string } }).next.type === 'string');
    expect(set?.['metadata']).toMatchObject({ key: 'max_seats', previous: { type: 'number', value: 25, source: 'override' }, next: { type: 'string', value: 'unlimited', source: 'override' } });
    const first = audit.find((a) => a['action'] === 'flag.set' && (a['metadata'] as { key: string }).key === 'theme');
    expect(first?.['metadata']).toMatchObject({ key: 'theme', previous: null, next: { type: 'string', value: 'dark' } });
    const unset = audit.find((a) => a['action'] === 'flag.unset' && (a['metadata'] as { key: string }).key === 'sso_enabled');
    expect(unset?.['metadata']).toMatchObject({ key: 'sso_enabled', previous: { value: true, source: 'override' }, next: { type: 'boolean', value: false, source: 'plan' } });
    expect(unset?.['resource']).toBe(`tenant:${tenantId}/flag:sso_enabled`);
  });

  it('stores the version next to the flags in the tenant partition', async () => {
    const items = (await h.items(`TENANT#${tenantId}`)).filter((i) => String(i['SK']).startsWith('FLAG'));
    const version = items.find((i) => i['SK'] === 'FLAG!VERSION');
    expect(version).toMatchObject({ entity: 'FlagVersion', version: (await list(tenantId)).version });
    expect(items.filter((i) => i['entity'] === 'Flag').every((i) => String(i['SK']) === `FLAG#${String(i['key'])}` && typeof i['type'] === 'string')).toBe(true);
  });
});

describe('Access and lifecycle', () => {
  it('a developer token is refused with 403 on every flag route', async () => {
    const tenantId = await createTenant('flags-b', 'Free');
    const dev = await h.developerToken();
    for (const [method, path, body] of [
      ['GET', `/v1/tenants/${tenantId}/flags`, undefined],
      ['PUT', `/v1/tenants/${tenantId}/flags/x`, { value: true }],
      ['DELETE', `/v1/tenants/${tenantId}/flags/x`, undefined],
    ] as const) {
      const res = await api(h, method, path, { token: dev, ...(body ? { body } : {}) });
      expect({ method, status: res.status }).toEqual({ method, status: 403 });
    }
    expect((await list(tenantId)).version).toBe(1);
  });

  it('unknown tenant → 404; purged tenant → 410', async () => {
    const unknown = '00000000-0000-4000-8000-00000000f1a9';
    expect((await api(h, 'GET', `/v1/tenants/${unknown}/flags`, { token: operator })).status).toBe(404);
    expect((await api(h, 'PUT', `/v1/tenants/${unknown}/flags/x`, { token: operator, body: { value: 1 } })).status).toBe(404);

    const tenantId = await createTenant('flags-gone', 'Free');
    const del = await api(h, 'DELETE', `/v1/tenants/${tenantId}?confirm=flags-gone`, { token: operator });
    expect(del.status).toBe(202);
    const purgeAfter = Date.parse((del.body['deletion'] as { purgeAfter: string }).purgeAfter);
    // The grace period is 30 days in real time: the deletion's own audit record has long been stored.
    await h.settle();
    const run = await purgeJob({ now: new Date(purgeAfter + 1000).toISOString() });
    expect(run.purged.map((p) => p.tenantId)).toContain(tenantId);
    expect(await h.items(`TENANT#${tenantId}`)).toEqual([]);
    for (const [method, path, body] of [
      ['GET', `/v1/tenants/${tenantId}/flags`, undefined],
      ['PUT', `/v1/tenants/${tenantId}/flags/x`, { value: true }],
      ['DELETE', `/v1/tenants/${tenantId}/flags/x`, undefined],
    ] as const) {
      const res = await api(h, method, path, { token: operator, ...(body ? { body } : {}) });
      expect({ method, status: res.status, code: res.body['code'] }).toEqual({ method, status: 410, code: 'ERR-RES-410' });
    }
  });
});
