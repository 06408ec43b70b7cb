/**
 * Ports of the identity context (issue #3). Adapters: shared/adapters/{local,aws,crypto,dynamo}/.
 */
import type { JWK } from 'jose';
import type { RotationOptions, RotationOutcome } from './key-rotation';

/** A signing key as the token service uses it: ES256, identified by `kid`. */
export interface ActiveSigningKey {
  readonly kid: string;
  readonly alg: 'ES256';
  /** A key usable with jose's SignJWT (node KeyObject / CryptoKey). */
  readonly privateKey: import('node:crypto').webcrypto.CryptoKey | import('node:crypto').KeyObject;
}

/**
 * Token-signing keys (ADR-0005). The local adapter keeps them in a file under .data/; the AWS adapter
 * keeps KMS-wrapped private keys in the table and decrypts them once per execution environment.
 */
export interface SigningKeyStore {
  /**
   * The key new tokens are signed with. Cached in memory after the first call. Creates the first key when
   * none exists yet (concurrent first calls, in any number of processes, agree on one key).
   */
  current(): Promise<ActiveSigningKey>;
  /**
   * Public keys to publish at the JWKS endpoint (shared/domain/identity/key-rotation.ts): a next key, the
   * signing key and the replaced ones whose retireAfter is still in the future, each with `kid`,
   * `use: 'sig'`, `alg: 'ES256'`. Read-only: never creates a key and never touches private key material,
   * so the JWKS route needs no key permissions. Returns no keys before the first `current()`/`rotate()`.
   */
  publicJwks(): Promise<{ keys: JWK[] }>;
  /**
   * Rotation without downtime (ADR-0005). Staged by default: the new key is published at once and signs
   * from `activatesAt` = now + the store's publication lead, so relying parties' cached JWKS already hold
   * it; the replaced key stays published until activation + `retainPreviousSeconds` (≥ the longest token
   * lifetime). `immediate` (a suspected compromise) makes the new key sign at once and destroys a pending
   * next key. A staged rotation while another is pending throws `ConflictError`. Retired keys are
   * destroyed. With no key yet, creates the first one (`previousKid: null`), which signs at once.
   *
   * Compare-and-swap on the current and next keys as read when the call began: if another rotation (this
   * or any other process) changed them in the meantime, nothing is written and this throws
   * `ConflictError` (ERR-VAL-409). Two concurrent rotations therefore never both win.
   */
  rotate(now: Date, options?: RotationOptions): Promise<RotationOutcome>;
}

export interface PasswordHasher {
  /** argon2id, OWASP parameters or stronger; returns a PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash). */
  hash(password: string): Promise<string>;
  /** Constant-time verification. False for any malformed hash. */
  verify(hash: string, password: string): Promise<boolean>;
  /** True when the stored hash uses weaker parameters than the current ones (rehash on next login). */
  needsRehash(hash: string): boolean;
  /** Spend the same time as a real verify, for unknown accounts (no user enumeration by timing). */
  burn(password: string): Promise<void>;
}

export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** For the audit trail and the local outbox page; never contains the secret link. */
  readonly kind: 'invitation' | 'password-reset' | 'password-changed';
  readonly tenantId: string | null;
}

export interface Mailer {
  send(message: MailMessage): Promise<{ messageId: string }>;
}

import type { ManagedApp } from './apps';
import type { AuthorizationCode, AuthorizationRequest, LoginUser, PasswordReset, RefreshFamily, Session } from './model';
import type { Tenant } from '../tenant';
import type { Invitation } from '../model';
import type { Page } from '../ports';

export interface LiveIds {
  readonly tenantId: string;
  readonly userId: string;
  readonly clientId: string;
  readonly sessionId: string;
}

export interface LiveExtras {
  /** The authenticated client: not read again. */
  readonly knownApp?: ManagedApp | undefined;
  /** Also read this refresh family of the user. */
  readonly familyId?: string | undefined;
  /** Also read the revocation marker of this access token (tenant-scoped). */
  readonly accessTokenJti?: string | undefined;
}

export interface LiveItems {
  readonly tenant: Tenant | undefined;
  readonly user: LoginUser | undefined;
  readonly app: ManagedApp | undefined;
  readonly session: Session | undefined;
  readonly enabled: boolean;
  /** Only when `familyId` was asked for. */
  readonly family: RefreshFamily | undefined;
  /** Only meaningful when `accessTokenJti` was asked for. */
  readonly accessTokenRevoked: boolean;
}

/** Persistence of the identity context. One DynamoDB adapter; every tenant-owned item keyed by tenant. */
export interface LoginCandidate {
  readonly tenant: Tenant | undefined;
  readonly enabled: boolean;
  readonly user: LoginUser | undefined;
}

export interface IdentityStore {
  createApp(app: ManagedApp): Promise<void>;
  getApp(appId: string): Promise<ManagedApp | undefined>;
  listApps(options: { limit: number; cursor?: string | undefined }): Promise<Page<ManagedApp>>;
  /** Optimistic concurrency: fails with ConflictError when the app changed since `expectedUpdatedAt`. */
  saveApp(app: ManagedApp, expectedUpdatedAt: string): Promise<void>;

  setAppEnabledForTenant(tenantId: string, appId: string, enabled: boolean, at: string): Promise<void>;
  isAppEnabledForTenant(tenantId: string, appId: string): Promise<boolean>;
  listTenantApps(tenantId: string): Promise<string[]>;

  /**
   * The token path's read of a client (client authentication, liveness of machine tokens). Unlike
   * `getApp` it may answer from a per-environment cache for up to CLIENT_CACHE_SECONDS (apps.ts), so
   * another environment's disable or secret rotation applies to new grants within that time; writes
   * through this process's store apply at once.
   */
  getAppForGrant(appId: string): Promise<ManagedApp | undefined>;

  /**
   * Everything the liveness check needs, in one round trip (tenant, user, session, enablement, and the
   * app unless the caller already holds it), plus what the caller asks for on the side: the refresh
   * family, an access token's revocation marker. It runs on every grant, userinfo and introspection
   * call, and SDK CPU per call dominates those paths (doc/benchmarks.md, issue #3).
   */
  loadLiveContext(ids: LiveIds, extra?: LiveExtras): Promise<LiveItems>;

  findTenantByDomain(domain: string): Promise<Tenant | undefined>;
  /**
   * The password step's reads in as few requests as the keys allow: the tenant of a domain, whether the
   * application is enabled for it, and the user with that email (none when `email` is null).
   */
  findLoginCandidate(domain: string, appId: string, email: string | null): Promise<LoginCandidate>;
  getTenant(tenantId: string): Promise<Tenant | undefined>;
  findUserByEmail(tenantId: string, email: string): Promise<LoginUser | undefined>;
  getUser(tenantId: string, userId: string): Promise<LoginUser | undefined>;
  /** Sets the password hash; with `activate`, an Invited user becomes Active. */
  setPassword(tenantId: string, userId: string, passwordHash: string, at: string, activate: boolean): Promise<void>;
  /**
   * The same password under stronger parameters (needsRehash at sign-in): replaces `oldHash` only if it is
   * still the stored one, so a password changed meanwhile is never put back, and leaves passwordChangedAt
   * alone, since the password did not change. False when the stored hash was no longer `oldHash`.
   */
  rehashPassword(tenantId: string, userId: string, oldHash: string, newHash: string): Promise<boolean>;

  getInvitation(tenantId: string, invitationId: string): Promise<Invitation | undefined>;
  /** Atomically: the invitation Pending → Accepted, the user Invited → Active with a password. */
  acceptInvitation(invitation: Invitation, passwordHash: string, at: string): Promise<void>;

  createPasswordReset(reset: PasswordReset): Promise<void>;
  getPasswordReset(tenantId: string, resetId: string): Promise<PasswordReset | undefined>;
  /** Atomically: the reset Pending → Used and the user's password replaced. */
  completePasswordReset(reset: PasswordReset, passwordHash: string, at: string): Promise<void>;
  /** Every session of the user, and every refresh token bound to them (FR-AUTH-004/005). */
  revokeAllUserSessions(tenantId: string, userId: string, reason: string, at: string): Promise<number>;

  putAuthorizationRequest(request: AuthorizationRequest): Promise<void>;
  getAuthorizationRequest(id: string): Promise<AuthorizationRequest | undefined>;
  updateAuthorizationRequestTenant(id: string, tenantDomain: string): Promise<void>;

  /**
   * A password step's success in one write: the new session, its authorization code, and the end of the
   * pending sign-in request (a sign-in's CPU is mostly its DynamoDB requests besides the hash: issue #3).
   */
  completeSignIn(session: Session, code: AuthorizationCode, requestId: string): Promise<void>;
  getSession(tenantId: string, userId: string, sessionId: string): Promise<Session | undefined>;
  touchSession(session: Session, lastSeenAt: string, idleExpiresAt: string): Promise<void>;
  listUserSessions(tenantId: string, userId: string): Promise<Session[]>;
  revokeSession(tenantId: string, userId: string, sessionId: string, reason: string, at: string): Promise<boolean>;

  putCode(code: AuthorizationCode): Promise<void>;
  /** Marks the code used if it is unused and unexpired; otherwise returns what it found. */
  redeemCode(tenantId: string, codeHash: string, now: string): Promise<{ outcome: 'redeemed' | 'reused' | 'invalid'; code: AuthorizationCode | undefined }>;
  recordCodeIssue(tenantId: string, codeHash: string, issued: { familyId: string | null; jti: string; exp: string }): Promise<void>;

  createRefreshFamily(family: RefreshFamily): Promise<void>;
  getRefreshFamily(tenantId: string, userId: string, familyId: string): Promise<RefreshFamily | undefined>;
  /** Rotation: succeeds only if `expectedHash` is still current (two concurrent refreshes: one wins). */
  rotateRefreshFamily(family: RefreshFamily, expectedHash: string, newHash: string): Promise<boolean>;
  revokeRefreshFamily(tenantId: string, userId: string, familyId: string, reason: string, at: string): Promise<void>;
  revokeFamiliesOfSession(tenantId: string, userId: string, sessionId: string, reason: string, at: string): Promise<void>;

  revokeAccessToken(tenantId: string | null, jti: string, expiresAt: string): Promise<void>;
  isAccessTokenRevoked(tenantId: string | null, jti: string): Promise<boolean>;
}

/** Fixed-window rate limiting (ERR-RATE-429). Returns seconds to wait, or 0 when the call is allowed. */
export interface RateLimiter {
  hit(bucket: string, subject: string, limit: number, windowSeconds: number, now: Date): Promise<number>;
  /**
   * Gives back one unit of the window that `at` fell in: for an attempt that was counted up front (so that
   * concurrent attempts cannot slip past the limit) but turned out not to be one the limit is about, such as a
   * successful sign-in. Never takes a counter below zero; a window that is gone stays gone.
   */
  refund(bucket: string, subject: string, windowSeconds: number, at: Date): Promise<void>;
}
