import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../shared/domain/provisioning';
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

const acme = (domain = 'acme') => ({ name: 'Acme Corp', domain, plan: 'Pro', ownerEmail: 'Owner@Acme.example' });

async function platformAudit(): Promise<Record<string, unknown>[]> {
  return h.items('PLATFORM#AUDIT');
}

async function tenantItemCount(): Promise<number> {
  return (await h.allItems()).filter((i) => typeof i['PK'] === 'string' && (i['PK'] as string).startsWith('TENANT')).length;
}

describe('UC-PROV-001: an operator provisions a tenant', () => {
  let created: { status: number; headers: Headers; body: Record<string, unknown> };
  let tenantId: string;

  beforeAll(async () => {
    created = await api(h, 'POST', '/v1/tenants', { token: operator, body: acme(), headers: { 'user-agent': 'it-test/1.0' } });
    tenantId = (created.body['tenant'] as { id: string }).id;
  });

  it('UC-PROV-001: returns 201 with the Active tenant in the home region of the deployment called', () => {
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/v1/tenants/${tenantId}`);
    expect(created.body['tenant']).toMatchObject({ name: 'Acme Corp', domain: 'acme', plan: 'Pro', status: 'Active', homeRegion: 'eu-central-1' });
    expect(JSON.stringify(created.body)).not.toMatch(/token/i);
  });

  it('DAT-TENANT: the tenant, its domain sentinel, the Owner (Invited), a pending invitation and the plan flags are in the table', async () => {
    const items = await h.items(`TENANT#${tenantId}`);
    const byEntity = (e: string) => items.filter((i) => i['entity'] === e);
    expect(byEntity('Tenant')).toHaveLength(1);
    expect(byEntity('Tenant')[0]).toMatchObject({ id: tenantId, domain: 'acme', status: 'Active', plan: 'Pro' });
    const [owner] = byEntity('User');
    expect(owner).toMatchObject({ role: 'Owner', status: 'Invited', email: 'owner@acme.example', tenantId });
    const [invite] = byEntity('Invitation');
    expect(invite).toMatchObject({ status: 'Pending', role: 'Owner', userId: owner?.['id'], email: 'owner@acme.example' });
    expect(Date.parse(String(invite?.['expiresAt'])) - Date.parse(String(invite?.['createdAt']))).toBe(7 * 86_400_000);
    expect(String(invite?.['tokenHash'])).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(typeof invite?.['ttl']).toBe('number');
    const flags = Object.fromEntries(byEntity('Flag').map((f) => [f['key'], f['value']]));
    expect(flags).toEqual({ ai_module_enabled: true, sso_enabled: false, audit_export_enabled: true, advanced_analytics: false });
    const sentinel = await h.items('TENANTDOMAIN#acme');
    expect(sentinel).toEqual([expect.objectContaining({ tenantId })]);
  });

  it('FR-LOG-003: writes one tenant.create audit record naming the operator, with IP and user agent', async () => {
    const audit = (await h.items(`TENANT#${tenantId}`)).filter((i) => i['entity'] === 'Audit');
    expect(audit).toHaveLength(1);
    const operatorRecord = (await h.items('PLATFORM#OPERATOR'))[0];
    expect(audit[0]).toMatchObject({
      action: 'tenant.create',
      outcome: 'Success',
      actorType: 'Operator',
      actorId: operatorRecord?.['id'],
      resource: `tenant:${tenantId}`,
      tenantId,
      metadata: expect.objectContaining({ ip: '127.0.0.1', userAgent: 'it-test/1.0', domain: 'acme' }),
    });
  });

  it('FR-SYS-004: the operator is provisioned once on first sight (tenant_id null) and reused afterwards', async () => {
    await api(h, 'GET', '/v1/tenants', { token: operator });
    const operators = await h.items('PLATFORM#OPERATOR');
    expect(operators).toHaveLength(1);
    expect(operators[0]).toMatchObject({ entity: 'Operator', email: 'operator@example.com', subject: 'dev-operator-0001', issuer: h.cp.issuer });
    const provisions = (await platformAudit()).filter((a) => a['action'] === 'operator.provision');
    expect(provisions).toHaveLength(1);
    expect(provisions[0]?.['actorId']).toBe(operators[0]?.['id']);
  });

  it('UC-PROV-001: GET /v1/tenants/{id} returns the tenant', async () => {
    const res = await api(h, 'GET', `/v1/tenants/${tenantId}`, { token: operator });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: tenantId, domain: 'acme', status: 'Active' });
  });

  it('ERR-VAL-409: a duplicate domain is refused and writes nothing', async () => {
    const before = await tenantItemCount();
    const res = await api(h, 'POST', '/v1/tenants', { token: operator, body: { ...acme(), name: 'Other', ownerEmail: 'x@other.example' } });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'ERR-VAL-409', errors: [{ location: 'body', pointer: '/domain', detail: 'is already in use' }] });
    expect(await tenantItemCount()).toBe(before);
    const failures = (await platformAudit()).filter((a) => a['action'] === 'tenant.create' && a['outcome'] === 'Failure');
    expect(failures.some((a) => (a['metadata'] as Record<string, unknown>)['code'] === 'ERR-VAL-409')).toBe(true);
  });
});

describe('ERR-RES-404 / ERR-VAL-400 on reads', () => {
  it('ERR-RES-404: an unknown tenant id is a problem+json 404', async () => {
    const res = await api(h, 'GET', '/v1/tenants/2f1c7c3e-7d0e-4a53-9a43-1a2b3c4d5e6f', { token: operator });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ code: 'ERR-RES-404', status: 404, type: 'urn:saas-control-plane:problem:ERR-RES-404' });
  });

  it('ERR-VAL-400: a tenant id that is not a UUID is refused with the field named', async () => {
    const res = await api(h, 'GET', '/v1/tenants/not-a-uuid', { token: operator });
    expect(res.status).toBe(400);
    expect(res.body['errors']).toEqual([{ location: 'path', pointer: '/id', detail: 'must be a tenant id (UUID)' }]);
  });
});

describe('GET /v1/tenants: cursor pagination', () => {
  it('NFR-CAP-001: pages cover every tenant exactly once, in creation order', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await api(h, 'POST', '/v1/tenants', { token: operator, body: { ...acme(`page-${i}`), ownerEmail: `o${i}@x.example` } });
      expect(r.status).toBe(201);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
      const res = await api(h, 'GET', `/v1/tenants${q}`, { token: operator });
      expect(res.status).toBe(200);
      const items = res.body['items'] as { domain: string; createdAt: string }[];
      expect(items.length).toBeLessThanOrEqual(2);
      seen.push(...items.map((t) => t.domain));
      cursor = res.body['nextCursor'] as string | null;
      pages++;
    } while (cursor && pages < 20);
    const expected = ['acme', 'page-0', 'page-1', 'page-2', 'page-3', 'page-4'];
    expect(seen.filter((d) => expected.includes(d))).toEqual(expected);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('ERR-VAL-400: a forged cursor cannot aim the query elsewhere', async () => {
    const forged = Buffer.from('TENANT#x', 'utf8').toString('base64url');
    const res = await api(h, 'GET', `/v1/tenants?cursor=${forged}`, { token: operator });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'ERR-VAL-400', errors: [{ location: 'query', pointer: '/cursor' }] });
  });

  it('ERR-VAL-400: limit out of range and unknown query parameters are refused', async () => {
    const res = await api(h, 'GET', '/v1/tenants?limit=1000&sort=name', { token: operator });
    expect(res.status).toBe(400);
    expect(res.body['errors']).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ location: 'query', pointer: '/limit' }),
        expect.objectContaining({ location: 'query', pointer: '/sort', detail: 'is not a recognised field' }),
      ]),
    );
  });
});

describe('Bad input changes nothing (ERR-VAL-400 / ERR-VAL-422)', () => {
  const cases: { name: string; body?: unknown; raw?: string; contentType?: string; status: number; code: string; pointer?: string }[] = [
    { name: 'ERR-VAL-400: invalid JSON', raw: '{"name": "x",', status: 400, code: 'ERR-VAL-400', pointer: '' },
    { name: 'ERR-VAL-400: unknown field', body: { ...acme('unknown-field'), admin: true }, status: 400, code: 'ERR-VAL-400', pointer: '/admin' },
    { name: 'ERR-VAL-400: missing field', body: { name: 'x', domain: 'missing-field', plan: 'Pro' }, status: 400, code: 'ERR-VAL-400', pointer: '/ownerEmail' },
    { name: 'ERR-VAL-400: uppercase domain', body: acme('Acme-Upper'), status: 400, code: 'ERR-VAL-400', pointer: '/domain' },
    { name: 'ERR-VAL-400: domain with spaces', body: acme('ac me'), status: 400, code: 'ERR-VAL-400', pointer: '/domain' },
    { name: 'ERR-VAL-400: domain too short', body: acme('a'), status: 400, code: 'ERR-VAL-400', pointer: '/domain' },
    { name: 'ERR-VAL-400: unknown plan', body: { ...acme('bad-plan'), plan: 'Platinum' }, status: 400, code: 'ERR-VAL-400', pointer: '/plan' },
    { name: 'ERR-VAL-400: bad owner email', body: { ...acme('bad-email'), ownerEmail: 'not-an-email' }, status: 400, code: 'ERR-VAL-400', pointer: '/ownerEmail' },
    { name: 'ERR-VAL-400: wrong content type', raw: JSON.stringify(acme('ctype')), contentType: 'text/plain', status: 400, code: 'ERR-VAL-400', pointer: '/content-type' },
    { name: 'ERR-VAL-400: oversized body', body: { ...acme('huge'), name: 'x'.repeat(70 * 1024) }, status: 400, code: 'ERR-VAL-400', pointer: '' },
    { name: 'ERR-VAL-422: reserved domain', body: acme('admin'), status: 422, code: 'ERR-VAL-422', pointer: '/domain' },
  ];

  for (const c of cases) {
    it(`${c.name} → ${c.status}, nothing written`, async () => {
      const before = await tenantItemCount();
      const res = await api(h, 'POST', '/v1/tenants', {
        token: operator,
        ...(c.raw !== undefined ? { rawBody: c.raw } : { body: c.body }),
        headers: { 'content-type': c.contentType ?? 'application/json' },
      });
      expect(res.status).toBe(c.status);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body['code']).toBe(c.code);
      if (c.pointer !== undefined) expect((res.body['errors'] as { pointer: string }[]).map((e) => e.pointer)).toContain(c.pointer);
      expect(await tenantItemCount()).toBe(before);
    });
  }
});

describe('Authentication and authorization of operators', () => {
  async function expectDenied(token: string | undefined, status: 401 | 403, rawAuth?: string): Promise<void> {
    const beforeTenants = await tenantItemCount();
    const beforeAudit = (await platformAudit()).length;
    const headers: Record<string, string> = rawAuth ? { authorization: rawAuth } : {};
    const res = await api(h, 'POST', '/v1/tenants', { ...(token ? { token } : {}), body: acme(`denied-${status}`), headers });
    expect(res.status).toBe(status);
    expect(res.body['code']).toBe(status === 401 ? 'ERR-AUTH-401' : 'ERR-AUTH-403');
    if (status === 401) expect(res.headers.get('www-authenticate')).toBe('Bearer');
    // Every cause of a 401 looks the same to the caller.
    if (status === 401) expect(res.body['detail']).toBe('The request lacks valid credentials.');
    expect(await tenantItemCount()).toBe(beforeTenants);
    const audit = await platformAudit();
    expect(audit.length).toBe(beforeAudit + 1);
    const denial = audit[audit.length - 1]; // sort keys are time-ordered, the query ascending
    expect(denial).toMatchObject({ outcome: 'Failure', action: 'tenant.create', resource: '/v1/tenants' });
    expect((denial?.['metadata'] as Record<string, unknown>)['denied']).toBe(true);
  }

  it('ERR-AUTH-401: no token is refused, audited, nothing written', async () => {
    await expectDenied(undefined, 401);
  });

  it('ERR-AUTH-401: a malformed authorization header is refused', async () => {
    await expectDenied(undefined, 401, 'Basic b3BlcmF0b3I6cGFzcw==');
  });

  it('ERR-AUTH-401: an expired token (signed by the real IdP key) is refused', async () => {
    const token = await h.mintToken({ sub: 'dev-operator-0001', groups: ['cp-operators'] }, { expiresIn: Math.floor(Date.now() / 1000) - 60 });
    await expectDenied(token, 401);
  });

  it('ERR-AUTH-401: a token from a foreign issuer is refused', async () => {
    const token = await h.mintToken({ sub: 'dev-operator-0001', groups: ['cp-operators'] }, { issuer: 'https://evil.example' });
    await expectDenied(token, 401);
  });

  it('ERR-AUTH-401: a token for another audience is refused', async () => {
    const token = await h.mintToken({ sub: 'dev-operator-0001', groups: ['cp-operators'] }, { audience: 'https://other-api.example' });
    await expectDenied(token, 401);
  });

  it('ERR-AUTH-401: a token with a tampered payload is refused', async () => {
    const [head, , sig] = operator.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ sub: 'attacker', groups: ['cp-operators'], iss: h.cp.issuer, aud: h.cp.audience, exp: 9_999_999_999 })).toString('base64url');
    await expectDenied(`${head}.${forgedPayload}.${sig}`, 401);
  });

  it('ERR-AUTH-401: alg none is refused', async () => {
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const token = `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ sub: 'x', groups: ['cp-operators'], iss: h.cp.issuer, aud: h.cp.audience, exp: 9_999_999_999 })}.`;
    await expectDenied(token, 401);
  });

  it('ERR-AUTH-403: a valid token without the operator group is refused and audited', async () => {
    await expectDenied(await h.developerToken(), 403);
  });

  it('ERR-AUTH-401: reads are protected too, and the denial is audited', async () => {
    const before = (await platformAudit()).length;
    const res = await api(h, 'GET', '/v1/tenants');
    expect(res.status).toBe(401);
    expect((await platformAudit()).length).toBe(before + 1);
  });
});

describe('Health and response hygiene', () => {
  it('NFR-OPS-001: /health answers 200 without auth and without detail', async () => {
    const res = await api(h, 'GET', '/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('NFR-OPS-001: /ready checks the table and answers 200', async () => {
    const res = await api(h, 'GET', '/ready');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready' });
  });

  it('CON-SEC-009: every API response carries security headers and a request id', async () => {
    const res = await api(h, 'GET', '/v1/tenants', { token: operator });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    expect(res.headers.get('x-request-id')).toMatch(/.{8,}/);
  });

  it('CON-SEC-009: an unknown route is a problem+json 404', async () => {
    const res = await api(h, 'GET', '/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body['code']).toBe('ERR-RES-404');
  });

  it('FR-LOG-003: audit records never contain tokens or invitation secrets', async () => {
    const all = JSON.stringify(await h.allItems());
    expect(all).not.toContain(operator);
    const invites = (await h.allItems()).filter((i) => i['entity'] === 'Invitation');
    // Stored hashes are of 32-byte tokens; no raw token-shaped value sits next to them.
    for (const inv of invites) expect(Object.keys(inv)).not.toContain('token');
    expect(hashToken('x')).not.toBe('x');
  });
});
