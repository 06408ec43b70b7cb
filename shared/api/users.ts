/** Wire shapes of the tenant administration API (FR-TENANT-*). */
import { z } from 'zod';
import { TENANT_ROLES, USER_STATUSES, type TenantUser } from '../domain/model';
import { emailSchema } from '../domain/tenant';

export const tenantParams = z.strictObject({ id: z.uuid('must be a tenant id (UUID)') });
export const userParams = z.strictObject({ id: z.uuid('must be a tenant id (UUID)'), userId: z.uuid('must be a user id (UUID)') });

export const listUsersQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(1024).optional(),
  role: z.enum(TENANT_ROLES).optional(),
  status: z.enum(USER_STATUSES).optional(),
  emailPrefix: z.string().trim().toLowerCase().min(1).max(254).optional(),
});

export const inviteBody = z.strictObject({
  email: emailSchema,
  role: z.enum(['Owner', 'Administrator', 'User']),
});

export const updateUserBody = z
  .strictObject({
    role: z.enum(TENANT_ROLES).optional(),
    status: z.enum(['Active', 'Disabled']).optional(),
  })
  .refine((b) => b.role !== undefined || b.status !== undefined, { message: 'name role or status' });

export function userView(u: TenantUser): Record<string, unknown> {
  return { id: u.id, tenantId: u.tenantId, email: u.email, role: u.role, status: u.status, createdAt: u.createdAt };
}
