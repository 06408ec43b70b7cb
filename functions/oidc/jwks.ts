import { defineWebHandler } from '../../shared/http/web';

/** GET /.well-known/jwks.json: the current signing key and the previous ones still valid (ADR-0005). */
export const handler = defineWebHandler({
  kind: 'oauth',
  handle: async ({ deps }) => ({
    status: 200,
    // Short enough that a rotation's new key is seen by relying parties before it is used widely.
    headers: { 'cache-control': 'public, max-age=300' },
    body: await deps.identity.keys.publicJwks(),
  }),
});
