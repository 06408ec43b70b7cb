/**
 * The per-request shortcuts of the delivery and token paths (issue #5 bench) answer exactly as the plain
 * versions did: shared loads under concurrency, case-insensitive headers, and route matching.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { Container } from '../../shared/composition';
import { ROUTES } from '../../shared/config/routes';
import { compile, routeIndex } from '../../shared/adapters/local/api-gateway';
import { flagsEtag, flagsForApp } from '../../shared/api/flag-delivery';
import type { TenantFlags } from '../../shared/domain/delivery-ports';
import type { AppKeyPrincipal } from '../../shared/domain/principal';
import { header } from '../../shared/http/request';
import { DynamoIdentityStore } from '../../shared/adapters/dynamo/identity-store';
import { keys } from '../../shared/adapters/dynamo/keys';
import type { ManagedApp } from '../../shared/domain/identity/apps';

function principal(appId: string): AppKeyPrincipal {
  return { kind: 'app', actor: { id: `key:${appId}`, type: 'System', tenantId: null }, keyId: 'k1', appId, scopes: ['flag:read'] };
}

/** The members flagsForApp touches, each counting its calls; `fail` makes the flag read reject. */
function deps(tenantId: string, fail = false): { deps: Container; reads: () => number } {
  let reads = 0;
  const flags: TenantFlags = { version: 3, flags: [] };
  const c = {
    identity: { store: { isAppEnabledForTenant: async () => true } },
    tenants: { get: async () => ({ id: tenantId, status: 'Active' }), isPurged: async () => false },
    flags: {
      tenantFlags: async () => {
        reads++;
        await new Promise((r) => setTimeout(r, 20));
        if (fail) throw new Error('table unavailable');
        return flags;
      },
    },
  } as unknown as Container; // only the members flagsForApp touches are provided
  return { deps: c, reads: () => reads };
}

describe('flagsForApp: one load per tenant and application when many requests miss together', () => {
  it('FR-FLAG-002: 25 concurrent requests on a cold cache make one read and all get its answer', async () => {
    const tenantId = randomUUID();
    const d = deps(tenantId);
    const answers = await Promise.all(Array.from({ length: 25 }, () => flagsForApp(d.deps, principal('app-a'), tenantId)));
    expect(d.reads()).toBe(1);
    expect(new Set(answers).size).toBe(1);
    expect(answers[0]?.version).toBe(3);
    // Cached now: no further read within the cache's lifetime.
    await flagsForApp(d.deps, principal('app-a'), tenantId);
    expect(d.reads()).toBe(1);
  });

  it('FR-FLAG-002: a failed load reaches every waiter and is not cached', async () => {
    const tenantId = randomUUID();
    const bad = deps(tenantId, true);
    const settled = await Promise.allSettled(Array.from({ length: 5 }, () => flagsForApp(bad.deps, principal('app-b'), tenantId)));
    expect(settled.every((s) => s.status === 'rejected')).toBe(true);
    expect(bad.reads()).toBe(1);
    const good = deps(tenantId);
    expect((await flagsForApp(good.deps, principal('app-b'), tenantId)).version).toBe(3);
    expect(good.reads()).toBe(1);
  });

  it('API-FLAG: the memoised ETag is the one the plain computation gives, and differs by tenant and version', () => {
    const t = randomUUID();
    const first = flagsEtag(t, 7);
    expect(flagsEtag(t, 7)).toBe(first);
    expect(flagsEtag(t, 8)).not.toBe(first);
    expect(flagsEtag(randomUUID(), 7)).not.toBe(first);
    expect(first).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
  });
});

describe('header(): case-insensitive lookup', () => {
  it('CON-SEC-009: any casing finds the header; the first of two spellings wins; absent is undefined', () => {
    const event = { headers: { 'If-None-Match': '"a"', 'if-none-match': '"b"', Authorization: 'Bearer x' } } as unknown as APIGatewayProxyEvent;
    expect(header(event, 'if-none-match')).toBe('"a"');
    expect(header(event, 'IF-NONE-MATCH')).toBe('"a"');
    expect(header(event, 'authorization')).toBe('Bearer x');
    expect(header(event, 'x-missing')).toBeUndefined();
    expect(header({ headers: null } as unknown as APIGatewayProxyEvent, 'authorization')).toBeUndefined();
  });
});

describe('routeIndex: the local gateway tries fewer routes, with the same outcome', () => {
  it('IF-API: for every route path (and variants) the first matching route is the one a scan of the whole table finds', () => {
    const compiled = ROUTES.map(compile);
    const candidates = routeIndex(compiled);
    const paths = new Set<string>();
    for (const r of ROUTES) {
      paths.add(r.path.replace(/\{\w+\}/g, 'x1'));
      paths.add(r.path.replace(/\{\w+\}/g, 'keys'));
      paths.add(`${r.path.replace(/\{\w+\}/g, 'x1')}/extra`);
      paths.add(r.path.replace(/\{\w+\}/g, 'x1').replace(/\/[^/]+$/, ''));
    }
    paths.add('/');
    paths.add('/nothing/here');
    expect(paths.size).toBeGreaterThan(ROUTES.length);
    for (const path of paths) {
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
        const scan = compiled.find((r) => r.pattern.test(path) && r.def.method === method);
        const indexed = candidates(path).find((r) => r.pattern.test(path) && r.def.method === method);
        expect(indexed?.def.id, `${method} ${path}`).toBe(scan?.def.id);
      }
      expect(candidates(path).some((r) => r.pattern.test(path)), path).toBe(compiled.some((r) => r.pattern.test(path)));
    }
  });
});

describe('getAppForGrant: a read that overlaps a write is answered but not cached (FR-SYS-003)', () => {
  it('FR-SYS-003: the old record read while the app was being disabled is not kept for the next grant', async () => {
    const at = '2030-01-01T00:00:00.000Z';
    const app: ManagedApp = { id: `app_${randomUUID()}`, name: 'Racy', environment: 'production', clientType: 'confidential', grantTypes: ['client_credentials'], redirectUris: [], postLogoutRedirectUris: [], status: 'Active', ownerId: 'd', secrets: [], createdAt: at, updatedAt: at };
    let gets = 0;
    let release: (() => void) | undefined;
    // A stand-in for the document client: the first GetItem waits until the test lets it answer.
    const db = {
      send: async (command: { constructor: { name: string } }) => {
        if (command.constructor.name === 'GetCommand') {
          gets++;
          if (gets === 1) await new Promise<void>((r) => (release = r));
          return { Item: { ...keys.app(app.id), entity: 'App', ...app } };
        }
        return {};
      },
    } as unknown as ConstructorParameters<typeof DynamoIdentityStore>[0]; // only send() is used here
    const store = new DynamoIdentityStore(db, 'racy-table');
    const pending = store.getAppForGrant(app.id);
    await new Promise((r) => setTimeout(r, 0));
    await store.saveApp({ ...app, status: 'Disabled' }, app.updatedAt);
    release!();
    expect((await pending)?.id).toBe(app.id);
    await store.getAppForGrant(app.id);
    expect(gets).toBe(2);
  });
});
