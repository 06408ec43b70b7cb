/**
 * "May this principal still get or use tokens?" — one check used by the token endpoint, userinfo and
 * introspection, so suspension, disabling, deletion and revocation bite everywhere at once.
 */
import type { ManagedApp } from './apps';
import type { LoginUser, Session } from './model';
import type { IdentityStore, LiveExtras, LiveIds, LiveItems } from './ports';
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

/**
 * Sliding idle timeout (FR-AUTH-005): activity moves a session's idle expiry, but the write happens at most
 * once per SESSION_TOUCH_INTERVAL_MS, so neither page navigation nor an app's refresh loop costs a table
 * write per request. Activity is a visit to /authorize with the session cookie and a refresh_token grant:
 * refresh tokens are bound to their session, so an app that keeps refreshing keeps its session alive, as
 * Keycloak's refresh keeps the SSO session alive. The absolute timeout never moves.
 */
export const SESSION_TOUCH_INTERVAL_MS = 60_000;

/** The new lastSeenAt and idleExpiresAt when a touch is due, or null when the last one is recent enough. */
export function sessionTouch(s: Session, now: Date, idleSeconds: number): { lastSeenAt: string; idleExpiresAt: string } | null {
  if (now.getTime() - Date.parse(s.lastSeenAt) <= SESSION_TOUCH_INTERVAL_MS) return null;
  return { lastSeenAt: now.toISOString(), idleExpiresAt: new Date(now.getTime() + idleSeconds * 1000).toISOString() };
}

export async function checkLive(
  store: IdentityStore,
  ids: LiveIds,
  now: Date,
  extra: LiveExtras = {},
): Promise<{ ok: true; ctx: LiveContext; items: LiveItems } | { ok: false; denial: AccessDenial; items: LiveItems }> {
  const items = await store.loadLiveContext(ids, extra);
  const denial = liveDenial(items, now);
  const { tenant, user, app, session } = items;
  // With no denial every part is present; the checks only narrow the types.
  if (denial || !tenant || !user || !app || !session) return { ok: false, denial: denial ?? 'session_missing', items };
  return { ok: true, ctx: { tenant, user, app, session }, items };
}

/** The rules on items already read (the refresh grant checks its family between read and verdict). */
export function liveDenial(items: LiveItems, now: Date): AccessDenial | null {
  const { tenant, user, app, session, enabled } = items;
  if (!tenant) return 'tenant_missing';
  if (tenant.status !== 'Active') return 'tenant_inactive';
  if (!user) return 'user_missing';
  if (user.status !== 'Active') return 'user_inactive';
  if (!app) return 'app_missing';
  if (app.status !== 'Active') return 'app_disabled';
  if (!enabled) return 'app_not_enabled_for_tenant';
  if (!session) return 'session_missing';
  return sessionLive(session, now);
}
