import { createHash } from 'node:crypto';
import { BusinessRuleError } from './errors';
import { formatOpaque } from './identity/oauth';
import type { FlagValue, Invitation, TenantUser } from './model';
import type { Clock, IdGenerator, ProvisioningBundle, TenantStore } from './ports';
import { isReservedTenantDomain, PLAN_DEFAULT_FLAGS, type Plan, type Tenant } from './tenant';

export const DEFAULT_INVITATION_TTL_DAYS = 7;
export const INVITATION_TOKEN_PREFIX = 'cpinv';

export interface ProvisionTenantInput {
  readonly name: string;
  readonly domain: string;
  readonly plan: Plan;
  readonly ownerEmail: string;
}

export interface ProvisioningDeps {
  readonly tenants: Pick<TenantStore, 'provision'>;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** The region of the deployment that received the call (issue #2: the home region is where you call). */
  readonly homeRegion: string;
}

export interface ProvisionedTenant {
  readonly tenant: Tenant;
  readonly owner: TenantUser;
  readonly invitation: Pick<Invitation, 'id' | 'email' | 'role' | 'status' | 'expiresAt'>;
  readonly flags: readonly Pick<FlagValue, 'key' | 'value' | 'source'>[];
  /** Returned to the caller of the domain only, so a mailer can send it; never stored, never logged. */
  readonly invitationToken: string;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/**
 * UC-PROV-001 (minimal form): the tenant (Active), its Owner as an Invited user with a pending
 * invitation, and the plan's default flags, all in one atomic write.
 */
export async function provisionTenant(deps: ProvisioningDeps, input: ProvisionTenantInput): Promise<ProvisionedTenant> {
  if (isReservedTenantDomain(input.domain)) {
    throw new BusinessRuleError('The tenant domain is reserved.', [
      { location: 'body', pointer: '/domain', detail: 'is reserved for the platform' },
    ]);
  }
  const now = deps.clock.now();
  const at = now.toISOString();
  const tenantId = deps.ids.uuid();
  const tenant: Tenant = {
    id: tenantId,
    name: input.name,
    domain: input.domain,
    plan: input.plan,
    status: 'Active',
    homeRegion: deps.homeRegion,
    createdAt: at,
    updatedAt: at,
  };
  const owner: TenantUser = {
    id: deps.ids.uuid(),
    tenantId,
    email: input.ownerEmail,
    role: 'Owner',
    status: 'Invited',
    createdAt: at,
  };
  const invitationId = deps.ids.uuid();
  // The token names its record (tenant, invitation) so acceptance is one GetItem; only its hash is stored.
  const token = formatOpaque(INVITATION_TOKEN_PREFIX, [tenantId, invitationId], deps.ids.secretToken());
  const invitation: Invitation = {
    id: invitationId,
    tenantId,
    userId: owner.id,
    email: owner.email,
    role: 'Owner',
    tokenHash: hashToken(token),
    status: 'Pending',
    createdAt: at,
    expiresAt: new Date(now.getTime() + DEFAULT_INVITATION_TTL_DAYS * 86_400_000).toISOString(),
  };
  const flags: FlagValue[] = Object.entries(PLAN_DEFAULT_FLAGS[input.plan]).map(([key, value]) => ({
    tenantId,
    key,
    value,
    source: 'plan',
    updatedAt: at,
  }));
  const bundle: ProvisioningBundle = { tenant, owner, invitation, flags };
  await deps.tenants.provision(bundle);
  return {
    tenant,
    owner,
    invitation: { id: invitation.id, email: invitation.email, role: invitation.role, status: invitation.status, expiresAt: invitation.expiresAt },
    flags: flags.map(({ key, value, source }) => ({ key, value, source })),
    invitationToken: token,
  };
}
