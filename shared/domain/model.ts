/** Entities other than the tenant itself (DAT-USER, DAT-INVITE, DAT-FLAG). */
export const TENANT_ROLES = ['Owner', 'Administrator', 'User'] as const;
export type TenantRole = (typeof TENANT_ROLES)[number];

export const USER_STATUSES = ['Invited', 'Active', 'Disabled'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

export interface TenantUser {
  readonly id: string;
  readonly tenantId: string;
  readonly email: string;
  readonly role: TenantRole;
  readonly status: UserStatus;
  readonly createdAt: string;
}

export const INVITATION_STATUSES = ['Pending', 'Accepted', 'Expired', 'Revoked'] as const;
export type InvitationStatus = (typeof INVITATION_STATUSES)[number];

export interface Invitation {
  readonly id: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly email: string;
  readonly role: TenantRole;
  /** SHA-256 of the token; the token itself is only ever in the invitation mail. */
  readonly tokenHash: string;
  readonly status: InvitationStatus;
  readonly createdAt: string;
  readonly expiresAt: string;
}

interface FlagValueBase {
  readonly tenantId: string;
  readonly key: string;
  /** `plan` values follow plan changes; `override` values survive them (FR-FLAG-001). */
  readonly source: 'plan' | 'override';
  readonly updatedAt: string;
}

/**
 * DAT-FLAG: the value and its type (issue #5). `type` may be omitted only for booleans, so plan defaults
 * built before typed flags existed (and items stored without `type`) stay valid; decoders always set it.
 */
export type FlagValue = FlagValueBase &
  (
    | { readonly type?: 'boolean'; readonly value: boolean }
    | { readonly type: 'string'; readonly value: string }
    | { readonly type: 'number'; readonly value: number }
    | { readonly type: 'object'; readonly value: Record<string, unknown> | unknown[] }
  );

/** DAT-USER with tenant_id NULL (FR-SYS-004). */
export interface OperatorUser {
  readonly id: string;
  readonly tenantId: null;
  readonly role: 'Operator';
  readonly status: 'Active';
  readonly email: string | null;
  readonly issuer: string;
  readonly subject: string;
  readonly createdAt: string;
}
