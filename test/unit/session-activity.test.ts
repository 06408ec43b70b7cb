/** FR-AUTH-005: the session rules shared by /authorize (SSO) and the refresh_token grant. */
import { describe, expect, it } from 'vitest';
import { SESSION_TOUCH_INTERVAL_MS, sessionLive, sessionTouch } from '../../shared/domain/identity/access';
import type { Session } from '../../shared/domain/identity/model';

const T0 = Date.parse('2026-11-22T00:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms);
const session = (over: Partial<Session> = {}): Session =>
  ({
    tenantId: 't',
    userId: 'u',
    id: 's',
    status: 'Active',
    lastSeenAt: at(0).toISOString(),
    idleExpiresAt: at(3_600_000).toISOString(),
    absoluteExpiresAt: at(7_200_000).toISOString(),
    ...over,
  }) as Session;

describe('FR-AUTH-005 session activity', () => {
  it('FR-AUTH-005: activity within a minute of the last write writes nothing', () => {
    expect(sessionTouch(session(), at(SESSION_TOUCH_INTERVAL_MS), 86_400)).toBeNull();
  });

  it('FR-AUTH-005: activity after a minute moves lastSeenAt and the idle expiry (idle seconds from now)', () => {
    expect(sessionTouch(session(), at(SESSION_TOUCH_INTERVAL_MS + 1), 86_400)).toEqual({
      lastSeenAt: at(SESSION_TOUCH_INTERVAL_MS + 1).toISOString(),
      idleExpiresAt: at(SESSION_TOUCH_INTERVAL_MS + 1 + 86_400_000).toISOString(),
    });
  });

  it('FR-AUTH-005: a session is live until the earlier of its idle and absolute expiries, and never when revoked', () => {
    expect(sessionLive(session(), at(3_599_999))).toBeNull();
    expect(sessionLive(session(), at(3_600_000))).toBe('session_expired');
    expect(sessionLive(session({ idleExpiresAt: at(10_000_000).toISOString() }), at(7_200_000))).toBe('session_expired');
    expect(sessionLive(session({ status: 'Revoked' }), at(1))).toBe('session_revoked');
  });
});
