import { describe, expect, it } from 'vitest';
import { FUNCTION_ROUTES, functionRouteOf, ROUTES, type RouteDef } from '../../shared/config/routes';

const owner: RouteDef = { id: 'Owner', method: 'GET', path: '/x', entry: 'functions/x.ts', table: 'read', description: 'x' };
const sharer: RouteDef = { ...owner, id: 'Sharer', method: 'POST', sharesFunctionOf: 'Owner' };

describe('Routes that share a function (ADR-0011)', () => {
  it('NFR-SEC-005: a second method is served by its owner\'s function only when entry and every permission-bearing field match', () => {
    expect(functionRouteOf(sharer, [owner, sharer])).toBe(owner);
    expect(functionRouteOf(owner, [owner, sharer])).toBe(owner);
    expect(() => functionRouteOf({ ...sharer, table: 'readwrite' }, [owner])).toThrow(/must equal those of Owner/);
    expect(() => functionRouteOf({ ...sharer, passwordHashing: true }, [owner])).toThrow(/must equal/);
    expect(() => functionRouteOf({ ...sharer, sendsMail: true }, [owner])).toThrow(/must equal/);
    expect(() => functionRouteOf({ ...sharer, entry: 'functions/y.ts' }, [owner])).toThrow(/must equal/);
    expect(() => functionRouteOf({ ...sharer, sharesFunctionOf: 'Nobody' }, [owner])).toThrow(/is not a route/);
    expect(() => functionRouteOf({ ...sharer, id: 'Third', sharesFunctionOf: 'Sharer' }, [owner, sharer])).toThrow(/shares a function itself/);
  });

  it('OIDC Core §3.1.2.1, RP-Initiated Logout §2: /authorize, /userinfo and /logout answer GET and POST from one function each', () => {
    for (const path of ['/authorize', '/userinfo', '/logout']) {
      const routes = ROUTES.filter((r) => r.path === path);
      expect(routes.map((r) => r.method).sort(), path).toEqual(['GET', 'POST']);
      expect(new Set(routes.map((r) => functionRouteOf(r).id)).size, path).toBe(1);
    }
    expect(FUNCTION_ROUTES.length).toBe(ROUTES.length - ROUTES.filter((r) => r.sharesFunctionOf).length);
  });
});
