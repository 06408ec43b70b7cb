/** Wire shapes of the session administration API (FR-AUTH-005, UC-TENANT-SESSION-REVOKE). */
import { z } from 'zod';

export const userSessionsParams = z.strictObject({ id: z.uuid('must be a tenant id (UUID)'), userId: z.uuid('must be a user id (UUID)') });
export const oneSessionParams = userSessionsParams.extend({ sessionId: z.uuid('must be a session id (UUID)') });

export { publicSession as sessionView } from '../domain/identity/model';
