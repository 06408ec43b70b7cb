/**
 * Tenant settings editable by Owners and Administrators (FR-AUTH-006 password policy, FR-TENANT-001
 * invitation expiry), and the plan change of FR-TENANT-003 with its flag consequences (FR-FLAG-001).
 */
import { z } from 'zod';
import { DEFAULT_PASSWORD_POLICY, passwordPolicySchema, type PasswordPolicy } from './identity/password-policy';
import type { FlagValue } from './model';
import { PLAN_DEFAULT_FLAGS, type Plan } from './tenant';
import { DEFAULT_INVITATION_EXPIRY_DAYS } from './user-admin';

export interface TenantSettings {
  readonly passwordPolicy: PasswordPolicy;
  readonly invitationExpiryDays: number;
}

export const DEFAULT_TENANT_SETTINGS: TenantSettings = { passwordPolicy: DEFAULT_PASSWORD_POLICY, invitationExpiryDays: DEFAULT_INVITATION_EXPIRY_DAYS };

export const invitationExpiryDaysSchema = z.int().min(1, 'must be at least 1 day').max(90, 'must be at most 90 days');

/** A partial update; the password policy is replaced as a whole, validated with its cross-field rules. */
export const updateSettingsBody = z
  .strictObject({
    passwordPolicy: passwordPolicySchema.optional(),
    invitationExpiryDays: invitationExpiryDaysSchema.optional(),
  })
  .refine((b) => b.passwordPolicy !== undefined || b.invitationExpiryDays !== undefined, { message: 'name at least one setting' });

export interface SettingsStore {
  get(tenantId: string): Promise<TenantSettings>;
  put(tenantId: string, settings: TenantSettings, at: string): Promise<void>;
}

/**
 * FR-TENANT-003 / FR-FLAG-001: a plan change re-applies the plan's defaults to flags that came from the
 * plan, adds the new plan's flags, removes plan flags the new plan lacks, and never touches overrides.
 */
export function planFlagChanges(current: readonly FlagValue[], tenantId: string, plan: Plan, at: string): { put: FlagValue[]; remove: string[] } {
  const defaults = PLAN_DEFAULT_FLAGS[plan];
  const byKey = new Map(current.map((f) => [f.key, f]));
  const put: FlagValue[] = [];
  for (const [key, value] of Object.entries(defaults)) {
    const existing = byKey.get(key);
    if (existing?.source === 'override') continue;
    if (!existing || existing.value !== value) put.push({ tenantId, key, type: 'boolean', value, source: 'plan', updatedAt: at });
  }
  const remove = current.filter((f) => f.source === 'plan' && !(f.key in defaults)).map((f) => f.key);
  return { put, remove };
}
