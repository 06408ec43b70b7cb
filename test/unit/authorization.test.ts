import { describe, expect, it } from 'vitest';
import { authorize, authorizeOnUser, PERMISSIONS, PLATFORM_ACTIONS, TENANT_ACTIONS, type Action, type Role } from '../../shared/domain/authorization';

const T = 'tenant-a';
const OTHER = 'tenant-b';
const ROLES: Role[] = ['Owner', 'Administrator', 'User', 'Operator', 'Auditor', 'Developer', 'AppKey'];

/**
 * The expected matrix, written out by hand from the spec (DAT-ROLE, FR-TENANT-*, FR-OPS-*, FR-LOG-002) so
 * that a change to PERMISSIONS has to be made twice, on purpose.
 */
const EXPECTED: Record<Role, Action[]> = {
  Owner: ['tenant.read', 'tenant.plan.update', 'tenant.settings.read', 'tenant.settings.update', 'user.list', 'user.read', 'user.invite', 'user.invite.owner', 'user.invite.resend', 'user.role.update', 'user.status.update', 'user.delete', 'user.sessions.revoke', 'user.data.export', 'user.data.rectify', 'user.data.erase', 'audit.read'],
  Administrator: ['tenant.read', 'tenant.settings.read', 'tenant.settings.update', 'user.list', 'user.read', 'user.invite', 'user.invite.resend', 'user.role.update', 'user.status.update', 'user.delete', 'user.sessions.revoke', 'user.data.export', 'user.data.rectify', 'user.data.erase'],
  User: [],
  Operator: ['tenant.create', 'tenant.list', 'tenant.suspend', 'tenant.restore', 'tenant.delete', 'app.manage', 'signing-key.rotate', 'tenant.read', 'tenant.plan.update', 'tenant.settings.read', 'tenant.settings.update', 'user.list', 'user.read', 'user.invite', 'user.invite.owner', 'user.invite.resend', 'user.role.update', 'user.status.update', 'user.delete', 'user.sessions.revoke', 'user.data.export', 'user.data.rectify', 'user.data.erase'],
  Auditor: ['tenant.list', 'tenant.read', 'audit.read', 'audit.read.all'],
  Developer: ['app.manage'],
  AppKey: [],
};

describe('Permission matrix (issue #4), exhaustively: every role × every action × own/other tenant', () => {
  for (const role of ROLES) {
    for (const action of [...TENANT_ACTIONS, ...PLATFORM_ACTIONS]) {
      const platform = role === 'Operator' || role === 'Auditor' || role === 'Developer';
      const subject = { role, tenantId: platform ? null : T };
      const expected = EXPECTED[role].includes(action);
      it(`SC-002: ${role} ${expected ? 'may' : 'may not'} ${action} in ${platform ? 'any tenant' : 'its own tenant'}`, () => {
        expect(authorize(subject, action, T).allowed).toBe(expected);
      });
      if (!platform && expected) {
        it(`SC-002: ${role} may not ${action} in another tenant`, () => {
          const d = authorize(subject, action, OTHER);
          expect(d).toEqual({ allowed: false, reason: 'resource belongs to another tenant' });
        });
      }
    }
  }

  it('SC-002: the matrix in code equals the matrix written out here', () => {
    for (const role of ROLES) expect([...PERMISSIONS[role]].sort()).toEqual([...EXPECTED[role]].sort());
  });

  it('SC-002: a tenant user without a tenant is refused everything', () => {
    expect(authorize({ role: 'Owner', tenantId: null }, 'user.list', T)).toEqual({ allowed: false, reason: 'no tenant' });
  });
});

describe('Rules on the target user (FR-TENANT-002/004/006)', () => {
  const owner = { role: 'Owner' as const, status: 'Active' };
  const admin = { role: 'Administrator' as const, status: 'Active' };
  it('FR-TENANT-004: an Administrator cannot touch an Owner, nor make an Owner', () => {
    expect(authorizeOnUser({ role: 'Administrator', tenantId: T }, owner, { kind: 'disable' }, 2).allowed).toBe(false);
    expect(authorizeOnUser({ role: 'Administrator', tenantId: T }, admin, { kind: 'role', to: 'Owner' }, 2).allowed).toBe(false);
    expect(authorizeOnUser({ role: 'Administrator', tenantId: T }, admin, { kind: 'role', to: 'User' }, 2).allowed).toBe(true);
  });
  it.each([
    [{ kind: 'role', to: 'Administrator' }],
    [{ kind: 'disable' }],
    [{ kind: 'delete' }],
  ] as const)('FR-TENANT-004/006/002: nobody removes the last active Owner (%o)', (change) => {
    expect(authorizeOnUser({ role: 'Owner', tenantId: T }, owner, change, 1)).toEqual({ allowed: false, reason: 'the tenant must keep at least one active Owner' });
    expect(authorizeOnUser({ role: 'Operator', tenantId: null }, owner, change, 1).allowed).toBe(false);
    expect(authorizeOnUser({ role: 'Owner', tenantId: T }, owner, change, 2).allowed).toBe(true);
  });
});
