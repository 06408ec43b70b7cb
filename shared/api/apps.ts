/** Wire shapes of the applications API (FR-SYS-001/003, UC-DEV-REGISTER, UC-DEV-UPDATE). */
import { z } from 'zod';

export const appIdParams = z.strictObject({ id: z.uuid('must be an application id (UUID)') });
export const tenantAppParams = z.strictObject({ id: z.uuid('must be a tenant id (UUID)'), appId: z.uuid('must be an application id (UUID)') });
export const listAppsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(512).optional(),
});
