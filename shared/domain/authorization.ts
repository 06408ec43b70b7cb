/**
 * The one permission matrix (issue #4): which principal may do what, to which tenant. Every handler asks
 * `authorize()`; nothing else decides. Denials carry a reason for the caller and the audit record.
 *
 * Principals: tenant users (Owner, Administrator, User — DAT-ROLE), platform Operators (ACT-OPS),
 * platform Auditors (ACT-AUDIT, see ADR-0007), Developers (ACT-DEV), application keys (issue #5).
 */
export const TENANT_ACTIONS = [
  'tenant.read',
  'tenant.plan.update',
  'tenant.settings.read',
  'tenant.settings.update',
  'user.list',
  'user.read',
  'user.invite',
  'user.invite.owner',
  'user.invite.resend',
  'user.role.update',
  'user.status.update',
  'user.delete',
  'user.sessions.revoke',
  'user.data.export',
  'user.data.rectify',
  'user.data.erase',
  'audit.read',
] as const;
export const PLATFORM_ACTIONS = ['tenant.create', 'tenant.list', 'tenant.suspend', 'tenant.restore', 'tenant.delete', 'app.manage', 'signing-key.rotate', 'audit.read.all'] as const;
export type TenantAction = (typeof TENANT_ACTIONS)[number];
export type PlatformAction = (typeof PLATFORM_ACTIONS)[number];
export type Action = TenantAction | PlatformAction;

export type Role = 'Owner' | 'Administrator' | 'User' | 'Operator' | 'Auditor' | 'Developer' | 'AppKey';

const ADMIN_ACTIONS: readonly TenantAction[] = [
  'tenant.read',
  'tenant.settings.read',
  'tenant.settings.update',
  'user.list',
  'user.read',
  'user.invite',
  'user.invite.resend',
  'user.role.update',
  'user.status.update',
  'user.delete',
  'user.sessions.revoke',
  'user.data.export',
  'user.data.rectify',
  'user.data.erase',
];

/**
 * Role → allowed actions. Owner = Administrator + billing (plan) + inviting Owners + the tenant's audit
 * log. Operators run the platform and act on any tenant; Auditors only read audit logs; Users and app keys
 * have no administrative rights here (app keys get their own scopes in issue #5).
 */
export const PERMISSIONS: Readonly<Record<Role, ReadonlySet<Action>>> = {
  Owner: new Set<Action>([...ADMIN_ACTIONS, 'tenant.plan.update', 'user.invite.owner', 'audit.read']),
  Administrator: new Set<Action>(ADMIN_ACTIONS),
  User: new Set<Action>([]),
  Operator: new Set<Action>([...PLATFORM_ACTIONS.filter((a) => a !== 'audit.read.all'), ...ADMIN_ACTIONS, 'tenant.plan.update', 'user.invite.owner']),
  Auditor: new Set<Action>(['audit.read', 'audit.read.all', 'tenant.list', 'tenant.read']),
  Developer: new Set<Action>(['app.manage']),
  AppKey: new Set<Action>([]),
};

export interface Subject {
  readonly role: Role;
  /** The tenant a tenant user belongs to; null for platform principals. */
  readonly tenantId: string | null;
}

export type Decision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

/**
 * May `subject` perform `action` on `tenantId` (null for platform-wide actions)? Tenant users act only
 * inside their own tenant; platform principals act on any tenant their role allows.
 */
export function authorize(subject: Subject, action: Action, tenantId: string | null): Decision {
  if (!PERMISSIONS[subject.role].has(action)) return { allowed: false, reason: `role ${subject.role} may not ${action}` };
  const platformRole = subject.role === 'Operator' || subject.role === 'Auditor' || subject.role === 'Developer';
  if (!platformRole) {
    if (subject.tenantId === null) return { allowed: false, reason: 'no tenant' };
    if (tenantId !== subject.tenantId) return { allowed: false, reason: 'resource belongs to another tenant' };
  }
  return { allowed: true };
}

/**
 * Rules that need the target user, beyond the matrix (FR-TENANT-004/006/002): an Administrator cannot act
 * on an Owner or make anyone an Owner; nobody may demote, disable or delete the last Owner.
 */
export function authorizeOnUser(
  subject: Subject,
  target: { role: 'Owner' | 'Administrator' | 'User'; status: string },
  change: { kind: 'role'; to: 'Owner' | 'Administrator' | 'User' } | { kind: 'disable' } | { kind: 'delete' } | { kind: 'other' },
  activeOwners: number,
): Decision {
  if (subject.role === 'Administrator') {
    if (target.role === 'Owner') return { allowed: false, reason: 'an Administrator cannot act on an Owner' };
    if (change.kind === 'role' && change.to === 'Owner') return { allowed: false, reason: 'only an Owner may make someone an Owner' };
  }
  const removesOwner =
    target.role === 'Owner' &&
    target.status === 'Active' &&
    ((change.kind === 'role' && change.to !== 'Owner') || change.kind === 'disable' || change.kind === 'delete');
  if (removesOwner && activeOwners <= 1) return { allowed: false, reason: 'the tenant must keep at least one active Owner' };
  return { allowed: true };
}
