/** Wire shapes of the session administration API (FR-AUTH-005, UC-TENANT-SESSION-REVOKE). */
import { z } from 'zod';
import type { Session } from '../domain/identity/model';

export const userSessionsParams = z.strictObject({ id: z.uuid('must be a tenant id (UUID)'), userId: z.uuid('must be a user id (UUID)') });
export const oneSessionParams = userSessionsParams.extend({ sessionId: z.uuid('must be a session id (UUID)') });

/** Everything but the secret's hash. */
export function sessionView(s: Session): Record<string, unknown> {
  return {
    id: s.id,
    userId: s.userId,
    status: s.status,
    createdAt: s.createdAt,
    authTime: s.authTime,
    amr: s.amr,
    lastSeenAt: s.lastSeenAt,
    idleExpiresAt: s.idleExpiresAt,
    absoluteExpiresAt: s.absoluteExpiresAt,
    ip: s.ip,
    userAgent: s.userAgent,
    revokedReason: s.revokedReason,
  };
}
