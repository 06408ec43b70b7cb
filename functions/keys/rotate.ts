import { z } from 'zod';
import { defineHandler } from '../../shared/http/handler';

const body = z
  .strictObject({
    /** Sign with the new key at once and drop a pending one: for a suspected compromise. */
    immediate: z.boolean().default(false),
    /** With immediate: also remove every older key from the JWKS at once (their tokens stop verifying). */
    retirePrevious: z.boolean().default(false),
  })
  .refine((b) => !b.retirePrevious || b.immediate, { path: ['retirePrevious'], message: 'needs immediate: true' })
  .default({ immediate: false, retirePrevious: false });

/**
 * POST /v1/keys/rotate (ADR-0005): a new signing key, published at once and signing after the publication
 * lead (or at once with `immediate`); the old one stays published until its tokens expire. Operators only.
 */
export const handler = defineHandler({
  auth: 'operator',
  auditAction: 'signing-key.rotate',
  body,
  handle: async ({ body: b, deps }) => {
    const r = await deps.identity.keys.rotate(deps.clock.now(), { immediate: b.immediate, retirePrevious: b.retirePrevious });
    return {
      status: 200,
      body: r,
      audit: { resource: `signing-key:${r.kid}`, tenantId: null, details: { previousKid: r.previousKid, activatesAt: r.activatesAt, immediate: b.immediate, retirePrevious: b.retirePrevious } },
    };
  },
});
