/**
 * Tenant administration of users (FR-TENANT-001/002/004/006/007): invite, resend, change role or status,
 * delete. Rules here; persistence behind UserAdminStore; who may do what comes from authorization.ts.
 */
import { authorize, authorizeOnUser, type Action, type Subject } from './authorization';
import { ConflictError, ForbiddenError, NotFoundError } from './errors';
import { formatOpaque } from './identity/oauth';
import type { Invitation, TenantRole, TenantUser, UserStatus } from './model';
import type { IdGenerator, Page } from './ports';
import { hashToken, INVITATION_TOKEN_PREFIX } from './provisioning';

export const DEFAULT_INVITATION_EXPIRY_DAYS = 7;

export interface UserFilter {
  readonly limit: number;
  readonly cursor?: string | undefined;
  readonly role?: TenantRole | undefined;
  readonly status?: UserStatus | undefined;
  readonly emailPrefix?: string | undefined;
}

export interface UserAdminStore {
  listUsers(tenantId: string, filter: UserFilter): Promise<Page<TenantUser>>;
  getUser(tenantId: string, userId: string): Promise<TenantUser | undefined>;
  countActiveOwners(tenantId: string): Promise<number>;
  /** User (Invited) + email sentinel + invitation, atomically; ConflictError when the email exists. */
  invite(user: TenantUser, invitation: Invitation): Promise<void>;
  pendingInvitations(tenantId: string, userId: string): Promise<Invitation[]>;
  /** Old invitations → Revoked and the new one written, atomically (FR-TENANT-007). */
  replaceInvitations(revoke: readonly Invitation[], next: Invitation): Promise<void>;
  /** Role/status change; fails with ConflictError if the user changed meanwhile. */
  updateUser(before: TenantUser, after: TenantUser): Promise<void>;
  deleteUser(user: TenantUser): Promise<void>;
}

export function requirePermission(subject: Subject, action: Action, tenantId: string): void {
  const d = authorize(subject, action, tenantId);
  // The reason is safe to show: the matrix is decided before any lookup, so it reveals nothing stored.
  if (!d.allowed) throw new ForbiddenError(`Not allowed: ${d.reason}.`, d.reason);
}

function newInvitation(ids: IdGenerator, user: TenantUser, now: Date, expiryDays: number): { invitation: Invitation; token: string } {
  const id = ids.uuid();
  const token = formatOpaque(INVITATION_TOKEN_PREFIX, [user.tenantId, id], ids.secretToken());
  return {
    token,
    invitation: {
      id,
      tenantId: user.tenantId,
      userId: user.id,
      email: user.email,
      role: user.role,
      tokenHash: hashToken(token),
      status: 'Pending',
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + expiryDays * 86_400_000).toISOString(),
    },
  };
}

export interface AdminDeps {
  readonly store: UserAdminStore;
  readonly ids: IdGenerator;
  readonly now: Date;
}

/** FR-TENANT-001: Owners and Administrators invite; only an Owner (or an operator) invites an Owner. */
export async function inviteUser(d: AdminDeps, subject: Subject, tenantId: string, input: { email: string; role: TenantRole }, expiryDays: number): Promise<{ user: TenantUser; invitation: Invitation; token: string }> {
  requirePermission(subject, input.role === 'Owner' ? 'user.invite.owner' : 'user.invite', tenantId);
  const user: TenantUser = { id: d.ids.uuid(), tenantId, email: input.email, role: input.role, status: 'Invited', createdAt: d.now.toISOString() };
  const { invitation, token } = newInvitation(d.ids, user, d.now, expiryDays);
  await d.store.invite(user, invitation);
  return { user, invitation, token };
}

/** FR-TENANT-007: the old invitation stops working; a new one with a fresh expiry is mailed. */
export async function resendInvitation(d: AdminDeps, subject: Subject, tenantId: string, userId: string, expiryDays: number): Promise<{ user: TenantUser; invitation: Invitation; token: string; revoked: number }> {
  requirePermission(subject, 'user.invite.resend', tenantId);
  const user = await d.store.getUser(tenantId, userId);
  if (!user) throw new NotFoundError('No such user in this tenant.');
  if (user.role === 'Owner') requirePermission(subject, 'user.invite.owner', tenantId);
  if (user.status !== 'Invited') throw new ConflictError('The user has already accepted an invitation.');
  const old = await d.store.pendingInvitations(tenantId, userId);
  const { invitation, token } = newInvitation(d.ids, user, d.now, expiryDays);
  await d.store.replaceInvitations(old, invitation);
  return { user, invitation, token, revoked: old.length };
}

export type UserChange = { readonly role?: TenantRole | undefined; readonly status?: 'Active' | 'Disabled' | undefined };

/** FR-TENANT-004 (role) and FR-TENANT-006 (status), with the last-Owner and Administrator-vs-Owner rules. */
export async function changeUser(d: AdminDeps, subject: Subject, tenantId: string, userId: string, change: UserChange): Promise<{ before: TenantUser; after: TenantUser }> {
  const user = await d.store.getUser(tenantId, userId);
  if (change.role !== undefined) requirePermission(subject, 'user.role.update', tenantId);
  if (change.status !== undefined) requirePermission(subject, 'user.status.update', tenantId);
  if (!user) throw new NotFoundError('No such user in this tenant.');
  if (change.status !== undefined && user.status === 'Invited') throw new ConflictError('An invited user has no status to change until the invitation is accepted.');
  const owners = await d.store.countActiveOwners(tenantId);
  const checks = [
    ...(change.role !== undefined && change.role !== user.role ? [{ kind: 'role' as const, to: change.role }] : []),
    ...(change.status === 'Disabled' && user.status !== 'Disabled' ? [{ kind: 'disable' as const }] : []),
    ...(change.role === undefined && change.status === undefined ? [] : [{ kind: 'other' as const }]),
  ];
  for (const c of checks) {
    const decision = authorizeOnUser(subject, user, c, owners);
    if (!decision.allowed) throw new ForbiddenError(`Not allowed: ${decision.reason}.`, decision.reason);
  }
  if (change.role === 'Owner') requirePermission(subject, 'user.invite.owner', tenantId);
  const after: TenantUser = { ...user, role: change.role ?? user.role, status: change.status ?? user.status };
  if (after.role === user.role && after.status === user.status) return { before: user, after };
  await d.store.updateUser(user, after);
  return { before: user, after };
}

/** FR-TENANT-002: removed from authentication; the caller ends the sessions. */
export async function deleteUser(d: AdminDeps, subject: Subject, tenantId: string, userId: string): Promise<TenantUser> {
  requirePermission(subject, 'user.delete', tenantId);
  const user = await d.store.getUser(tenantId, userId);
  if (!user) throw new NotFoundError('No such user in this tenant.');
  const decision = authorizeOnUser(subject, user, { kind: 'delete' }, await d.store.countActiveOwners(tenantId));
  if (!decision.allowed) throw new ForbiddenError(`Not allowed: ${decision.reason}.`, decision.reason);
  await d.store.deleteUser(user);
  return user;
}
