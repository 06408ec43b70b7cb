import { defineHandler } from '../../shared/http/handler';

/** POST /v1/keys/rotate (ADR-0005): a new signing key, the old one stays published; operators only. */
export const handler = defineHandler({
  auth: 'operator',
  auditAction: 'signing-key.rotate',
  handle: async ({ deps }) => {
    const r = await deps.identity.keys.rotate(deps.clock.now());
    return { status: 200, body: r, audit: { resource: `signing-key:${r.kid}`, tenantId: null, details: { previousKid: r.previousKid } } };
  },
});
