import { describe, expect, it } from 'vitest';
import { startDevIdpThread } from '../../shared/adapters/local/dev-idp-thread';

// The local control plane runs its dev IdP on a worker thread so that oidc-provider's AsyncLocalStorage
// (promise hooks for the whole isolate on Node 20) stays off the API's thread (issue #5).
describe('dev IdP on a worker thread (local mode)', () => {
  it('serves discovery and JWKS from the worker, hands back its key set, and closes (twice is fine)', async () => {
    const idp = await startDevIdpThread({ port: 0, audience: 'http://localhost:1' });
    try {
      const discovery = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as { issuer: string; jwks_uri: string };
      expect(discovery.issuer).toBe(idp.issuer);
      const jwks = (await (await fetch(discovery.jwks_uri)).json()) as { keys: { kid: string; d?: string }[] };
      expect(jwks.keys.map((k) => k.kid)).toEqual(idp.privateJwks.keys.map((k) => k.kid));
      expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
    } finally {
      await idp.close();
      await idp.close();
    }
    await expect(fetch(`${idp.issuer}/.well-known/openid-configuration`)).rejects.toThrow();
  });

  it('reports a start-up failure of the worker as an error, not a hang', async () => {
    await expect(startDevIdpThread({ port: 0, audience: '' })).rejects.toThrow(/audience is required/);
  });
});
