/** Identity records (DAT-SESSION and the OAuth artefacts around it). Times are ISO strings. */
import type { TenantRole } from '../model';

export interface IdentityLifetimes {
  readonly authorizationCodeSeconds: number;
  readonly accessTokenSeconds: number;
  readonly idTokenSeconds: number;
  readonly refreshTokenAbsoluteSeconds: number;
  readonly sessionIdleSeconds: number;
  readonly sessionAbsoluteSeconds: number;
  readonly authorizationRequestSeconds: number;
  readonly clientSecretGraceSeconds: number;
}

/** Defaults in line with Auth0/Keycloak: short access tokens, long-lived but rotating refresh tokens. */
export const DEFAULT_LIFETIMES: IdentityLifetimes = {
  authorizationCodeSeconds: 60,
  accessTokenSeconds: 600,
  idTokenSeconds: 600,
  refreshTokenAbsoluteSeconds: 30 * 86_400,
  sessionIdleSeconds: 24 * 3600,
  sessionAbsoluteSeconds: 7 * 86_400,
  authorizationRequestSeconds: 600,
  clientSecretGraceSeconds: 7 * 86_400,
};

/** A validated /authorize request waiting for the user to sign in (the login page's "transaction"). */
export interface AuthorizationRequest {
  readonly id: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scope: string;
  readonly state: string | null;
  readonly nonce: string | null;
  readonly codeChallenge: string;
  readonly maxAge: number | null;
  readonly prompt: 'login' | null;
  /** Tenant domain, once known (from the `tenant` parameter or the first login step). */
  readonly tenantDomain: string | null;
  readonly loginHint: string | null;
  readonly createdAt: string;
  readonly expiresAt: string;
}

export interface Session {
  readonly id: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly status: 'Active' | 'Revoked';
  readonly secretHash: string;
  readonly authTime: string;
  readonly amr: readonly string[];
  readonly createdAt: string;
  readonly lastSeenAt: string;
  readonly idleExpiresAt: string;
  readonly absoluteExpiresAt: string;
  readonly ip: string;
  readonly userAgent: string | null;
  readonly revokedReason: string | null;
}

export interface AuthorizationCode {
  readonly hash: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly scope: string;
  readonly nonce: string | null;
  readonly authTime: string;
  readonly amr: readonly string[];
  readonly expiresAt: string;
  readonly status: 'Unused' | 'Used';
  /** What the first redemption issued, so a second one can revoke it (RFC 6749 §4.1.2). */
  readonly issuedFamilyId: string | null;
  readonly issuedAccessTokenJti: string | null;
  readonly issuedAccessTokenExp: string | null;
}

export interface RefreshFamily {
  readonly id: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly scope: string;
  readonly authTime: string;
  readonly amr: readonly string[];
  readonly currentHash: string;
  /** Hashes of tokens already rotated away: presenting one again is replay (revoke the family). */
  readonly previousHashes: readonly string[];
  readonly generation: number;
  readonly status: 'Active' | 'Revoked';
  readonly createdAt: string;
  readonly absoluteExpiresAt: string;
}

export interface LoginUser {
  readonly id: string;
  readonly tenantId: string;
  readonly email: string;
  readonly role: TenantRole;
  readonly status: 'Invited' | 'Active' | 'Disabled';
  readonly passwordHash: string | null;
  readonly passwordChangedAt: string | null;
}

export interface PasswordReset {
  readonly id: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly tokenHash: string;
  readonly status: 'Pending' | 'Used';
  readonly createdAt: string;
  readonly expiresAt: string;
}

/**
 * What a session reveals outside the store — to operators, tenant admins and the user's own data export
 * (CON-COMP-001): everything but the secret's hash. One definition, so the two can never disagree.
 */
export function publicSession(s: Session): Omit<Session, 'secretHash' | 'tenantId'> {
  const { secretHash: _secret, tenantId: _tenant, ...rest } = s;
  return rest;
}
