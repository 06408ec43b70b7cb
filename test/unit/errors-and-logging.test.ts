import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { Container } from '../../shared/composition';
import type { AuditRecord } from '../../shared/domain/audit';
import { buildAuditRecord, scrubSecrets } from '../../shared/domain/audit';
import { ConflictError, InternalError, RateLimitError } from '../../shared/domain/errors';
import { defineHandler } from '../../shared/http/handler';
import { createLogger, redact } from '../../shared/http/logger';
import { problem } from '../../shared/http/response';
import { apiEvent } from '../support/api-event';

function testContainer(lines: string[], audits: AuditRecord[]): () => Container {
  const c = {
    log: createLogger('debug', {}, (l) => lines.push(l)),
    clock: { now: () => new Date('2026-11-21T00:00:00Z') },
    ids: { uuid: () => '11111111-1111-4111-8111-111111111111', secretToken: () => 't' },
    audit: { write: async (r: AuditRecord) => void audits.push(r) },
  } as unknown as Container; // only the members these handlers touch are provided
  return () => c;
}

describe('Error rendering (RFC 9457, CON-SEC-009)', () => {
  it('ERR-SYS-500: an unexpected exception becomes a generic problem with no stack and no internal message', async () => {
    const lines: string[] = [];
    const handler = defineHandler({
      auth: 'none',
      container: testContainer(lines, []),
      handle: async () => {
        throw new Error('ConnectionRefused db-internal-host:5432 SELECT * FROM secrets');
      },
    });
    const res = await handler(apiEvent(), {} as Context);
    expect(res.statusCode).toBe(500);
    expect(res.headers?.['content-type']).toBe('application/problem+json; charset=utf-8');
    const body = JSON.parse(res.body) as Record<string, unknown>;
    expect(body).toEqual({
      type: 'urn:saas-control-plane:problem:ERR-SYS-500',
      title: 'Internal error',
      status: 500,
      code: 'ERR-SYS-500',
      instance: '/probe',
      requestId: 'req-12345678',
    });
    expect(res.body).not.toMatch(/db-internal-host|SELECT|at .*\.ts/);
    // The operator still gets the cause, in the log.
    expect(lines.join('\n')).toContain('db-internal-host');
  });

  it('ERR-SYS-500: an InternalError keeps its detail out of the response', () => {
    const res = problem(new InternalError('corrupt tenant item: plan'), 'r', '/x');
    expect(res.body).not.toContain('corrupt');
  });

  it('ERR-VAL-409: 4xx problems carry detail and field issues', () => {
    const res = problem(new ConflictError('The tenant domain is already in use.', [{ location: 'body', pointer: '/domain', detail: 'is already in use' }]), 'r', '/v1/tenants');
    expect(JSON.parse(res.body)).toMatchObject({ status: 409, code: 'ERR-VAL-409', detail: 'The tenant domain is already in use.', errors: [{ pointer: '/domain' }] });
  });

  it('ERR-RATE-429: carries Retry-After', () => {
    const res = problem(new RateLimitError(2.2), 'r', '/x');
    expect(res.statusCode).toBe(429);
    expect(res.headers?.['retry-after']).toBe('3');
  });

  it('CON-SEC-009: a client request id is echoed only when it is well-formed', async () => {
    const handler = defineHandler({ auth: 'none', container: testContainer([], []), handle: async () => ({ status: 200, body: {} }) });
    const good = await handler(apiEvent({ headers: { 'X-Request-Id': 'client-abc-123' } }), {} as Context);
    expect(good.headers?.['x-request-id']).toBe('client-abc-123');
    const bad = await handler(apiEvent({ headers: { 'X-Request-Id': 'x\r\nset-cookie: a=b' } }), {} as Context);
    expect(bad.headers?.['x-request-id']).toBe('req-12345678');
  });

  it('FR-LOG-003: a failed state-changing request writes a Failure audit record with the error code', async () => {
    const audits: AuditRecord[] = [];
    const handler = defineHandler({
      auth: 'none',
      auditAction: 'probe.change',
      container: testContainer([], audits),
      handle: async () => {
        throw new ConflictError('taken');
      },
    });
    const res = await handler(apiEvent({ httpMethod: 'POST' }), {} as Context);
    expect(res.statusCode).toBe(409);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ action: 'probe.change', outcome: 'Failure', actorType: 'Anonymous', metadata: { code: 'ERR-VAL-409', ip: '203.0.113.9' } });
  });
});

describe('Logs and audit records hold no secrets', () => {
  it('CON-SEC-006: the logger redacts credential-like fields at any depth', () => {
    const lines: string[] = [];
    const log = createLogger('info', {}, (l) => lines.push(l));
    log.info('login', { user: 'a@b.c', password: 'hunter2', nested: { authorization: 'Bearer abc.def.ghi', list: [{ refresh_token: 'r' }] }, clientSecret: 's' });
    const out = lines.join('');
    expect(out).not.toMatch(/hunter2|abc\.def\.ghi|"r"|"s"/);
    expect(out).toContain('a@b.c');
    expect(redact({ apiKey: 'k' })).toEqual({ apiKey: '[redacted]' });
  });

  it('FR-LOG-003: audit metadata drops secret-looking keys and always records IP, user agent and request id', () => {
    expect(scrubSecrets({ password: 'x', note: 'y', nested: { token: 'z', ok: 1 } })).toEqual({ note: 'y', nested: { ok: 1 } });
    const r = buildAuditRecord(
      { actor: { id: 'op-1', type: 'Operator', tenantId: null }, action: 'tenant.create', resource: 'tenant:t1', outcome: 'Success', tenantId: 't1', origin: { requestId: 'rq', ip: '198.51.100.1', userAgent: 'ua' }, details: { secret: 'no' } },
      'id-1',
      new Date('2026-01-01T00:00:00Z'),
    );
    expect(r).toEqual({
      id: 'id-1',
      timestamp: '2026-01-01T00:00:00.000Z',
      tenantId: 't1',
      actorId: 'op-1',
      actorType: 'Operator',
      action: 'tenant.create',
      resource: 'tenant:t1',
      outcome: 'Success',
      metadata: { ip: '198.51.100.1', userAgent: 'ua', requestId: 'rq' },
    });
  });
});
