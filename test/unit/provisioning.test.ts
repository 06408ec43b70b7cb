import { describe, expect, it } from 'vitest';
import { createTenantBody } from '../../shared/api/tenants';
import { AppError } from '../../shared/domain/errors';
import type { ProvisioningBundle, TenantStore } from '../../shared/domain/ports';
import { hashToken, provisionTenant } from '../../shared/domain/provisioning';
import { PLAN_DEFAULT_FLAGS } from '../../shared/domain/tenant';

class RecordingStore implements Pick<TenantStore, 'provision'> {
  readonly bundles: ProvisioningBundle[] = [];
  async provision(bundle: ProvisioningBundle): Promise<void> {
    this.bundles.push(bundle);
  }
}

const fixedNow = new Date('2026-11-21T10:00:00.000Z');
function deps(store: Pick<TenantStore, 'provision'>) {
  let n = 0;
  return {
    tenants: store,
    clock: { now: () => fixedNow },
    ids: { uuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`, secretToken: () => 'secret-token-value' },
    homeRegion: 'ap-northeast-1',
  };
}

describe('provisionTenant (UC-PROV-001)', () => {
  it('UC-PROV-001: builds an Active tenant, an Invited Owner, a pending invitation and the plan flags in one bundle', async () => {
    const store = new RecordingStore();
    const out = await provisionTenant(deps(store), { name: 'Acme', domain: 'acme', plan: 'Enterprise', ownerEmail: 'owner@acme.example' });
    expect(store.bundles).toHaveLength(1);
    const b = store.bundles[0]!;
    expect(b.tenant).toMatchObject({ name: 'Acme', domain: 'acme', plan: 'Enterprise', status: 'Active', homeRegion: 'ap-northeast-1', createdAt: fixedNow.toISOString() });
    expect(b.owner).toMatchObject({ role: 'Owner', status: 'Invited', tenantId: b.tenant.id, email: 'owner@acme.example' });
    expect(b.invitation).toMatchObject({ status: 'Pending', role: 'Owner', userId: b.owner.id, expiresAt: '2026-11-28T10:00:00.000Z' });
    expect(b.flags.map((f) => [f.key, f.value])).toEqual(Object.entries(PLAN_DEFAULT_FLAGS.Enterprise));
    expect(b.flags.every((f) => f.source === 'plan' && f.tenantId === b.tenant.id)).toBe(true);
    expect(out.invitationToken).toMatch(/^cpinv_/);
    expect(out.invitationToken.split('.').pop()).toBe(Buffer.from('secret-token-value').toString('base64url'));
  });

  it('CON-SEC-006: only the hash of the invitation token is stored', async () => {
    const store = new RecordingStore();
    const out = await provisionTenant(deps(store), { name: 'Acme', domain: 'acme', plan: 'Free', ownerEmail: 'o@acme.example' });
    const stored = JSON.stringify(store.bundles[0]);
    expect(store.bundles[0]!.invitation.tokenHash).toBe(hashToken(out.invitationToken));
    expect(stored).not.toContain(out.invitationToken);
    expect(stored).not.toContain('secret-token-value');
    expect(store.bundles[0]!.invitation.tokenHash).not.toBe(hashToken('secret-token-value'));
    expect(stored).not.toContain(Buffer.from('secret-token-value').toString('base64url'));
  });

  it.each(['admin', 'api', 'www', 'login', 'xn--80ak6aa92e'])('ERR-VAL-422: reserved domain %s is refused before anything is written', async (domain) => {
    const store = new RecordingStore();
    const err = await provisionTenant(deps(store), { name: 'X', domain, plan: 'Free', ownerEmail: 'o@x.example' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('ERR-VAL-422');
    expect((err as AppError).issues[0]?.pointer).toBe('/domain');
    expect(store.bundles).toHaveLength(0);
  });
});

describe('createTenantBody (ERR-VAL-400)', () => {
  const ok = { name: 'Acme', domain: 'acme', plan: 'Pro', ownerEmail: 'Owner@Acme.Example' };
  it('ERR-VAL-400: accepts a valid body and lowercases the owner email', () => {
    expect(createTenantBody.parse(ok).ownerEmail).toBe('owner@acme.example');
  });
  it.each([
    ['uppercase', 'Acme'],
    ['space', 'ac me'],
    ['leading hyphen', '-acme'],
    ['trailing hyphen', 'acme-'],
    ['underscore', 'ac_me'],
    ['dot', 'acme.com'],
    ['too short', 'ab'],
    ['too long', 'a'.repeat(64)],
    ['unicode', 'äcme'],
  ])('ERR-VAL-400: refuses a domain with %s', (_why, domain) => {
    expect(createTenantBody.safeParse({ ...ok, domain }).success).toBe(false);
  });
  it('ERR-VAL-400: refuses unknown fields and control characters in names', () => {
    expect(createTenantBody.safeParse({ ...ok, status: 'Suspended' }).success).toBe(false);
    expect(createTenantBody.safeParse({ ...ok, name: 'Acme\u0000' }).success).toBe(false);
    expect(createTenantBody.safeParse({ ...ok, name: '   ' }).success).toBe(false);
  });
});
