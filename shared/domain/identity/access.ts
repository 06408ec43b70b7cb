/**
 * "May this principal still get or use tokens?" — one check used by the token endpoint, userinfo and
 * introspection, so suspension, disabling, deletion and revocation bite everywhere at once.
 */
import type { ManagedApp } from './apps';
import type { LoginUser, Session } from './model';
import type { IdentityStore } from './ports';
import type { Tenant } from '../tenant';

export type AccessDenial =
  | 'tenant_missing'
  | 'tenant_inactive'
  | 'user_missing'
  | 'user_inactive'
  | 'app_missing'
  | 'app_disabled'
  | 'app_not_enabled_for_tenant'
  | 'session_missing'
  | 'session_revoked'
  | 'session_expired';

export interface LiveContext {
  readonly tenant: Tenant;
  readonly user: LoginUser;
  readonly app: ManagedApp;
  readonly session: Session;
}

export function sessionLive(s: Session, now: Date): AccessDenial | null {
  if (s.status !== 'Active') return 'session_revoked';
  const t = now.getTime();
  if (Date.parse(s.idleExpiresAt) <= t || Date.parse(s.absoluteExpiresAt) <= t) return 'session_expired';
  return null;
}

export async function checkLive(
  store: IdentityStore,
  ids: { tenantId: string; userId: string; clientId: string; sessionId: string },
  now: Date,
): Promise<{ ok: true; ctx: LiveContext } | { ok: false; denial: AccessDenial }> {
  const { tenant, user, app, session, enabled } = await store.loadLiveContext(ids);
  if (!tenant) return { ok: false, denial: 'tenant_missing' };
  if (tenant.status !== 'Active') return { ok: false, denial: 'tenant_inactive' };
  if (!user) return { ok: false, denial: 'user_missing' };
  if (user.status !== 'Active') return { ok: false, denial: 'user_inactive' };
  if (!app) return { ok: false, denial: 'app_missing' };
  if (app.status !== 'Active') return { ok: false, denial: 'app_disabled' };
  if (!enabled) return { ok: false, denial: 'app_not_enabled_for_tenant' };
  if (!session) return { ok: false, denial: 'session_missing' };
  const s = sessionLive(session, now);
  if (s) return { ok: false, denial: s };
  return { ok: true, ctx: { tenant, user, app, session } };
}
