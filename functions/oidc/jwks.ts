import { JWKS_MAX_AGE_SECONDS } from '../../shared/domain/identity/key-rotation';
import { defineWebHandler } from '../../shared/http/web';

/** GET /.well-known/jwks.json: a staged next key, the signing key and the replaced ones still valid (ADR-0005). */
export const handler = defineWebHandler({
  kind: 'oauth',
  cors: 'any-origin',
  handle: async ({ deps }) => ({
    status: 200,
    // A staged rotation publishes the new key longer than this before it signs (SIGNING_KEY_PUBLISH_LEAD_SECONDS).
    headers: { 'cache-control': `public, max-age=${JWKS_MAX_AGE_SECONDS}` },
    body: await deps.identity.keys.publicJwks(),
  }),
});
