/** Wire shapes of the session administration API (FR-AUTH-005, UC-TENANT-SESSION-REVOKE). */
import { z } from 'zod';
import type { Principal } from '../domain/principal';

export const userSessionsParams = z.strictObject({ id: z.uuid('must be a tenant id (UUID)'), userId: z.uuid('must be a user id (UUID)') });
export const oneSessionParams = userSessionsParams.extend({ sessionId: z.uuid('must be a session id (UUID)') });

export { publicSession as sessionView } from '../domain/identity/model';

/**
 * The reason recorded on a session an administrator ends: which side ended it, since the session list
 * shows it to both (the audit record names the actor itself).
 */
export function revocationReason(p: Principal): string {
  return p.kind === 'user' ? 'revoked by tenant administrator' : 'revoked by operator';
}
