/**
 * The token endpoint's rules (RFC 6749 §4.1.3, §4.4, §6; RFC 7009; RFC 7662; OIDC Core §3.1.3, §5.3).
 * Pure domain: persistence and keys come in through ports.
 */
import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { clientSecretMatches, type ManagedApp } from './apps';
import { checkLive, sessionTouch, type AccessDenial } from './access';
import { atHash, signJwt } from './jwt';
import type { IdentityLifetimes, RefreshFamily } from './model';
import { formatOpaque, OAuthError, parseOpaque, pkceMatches, randomSecret, sha256 } from './oauth';
import type { IdentityStore, SigningKeyStore } from './ports';

export interface TokenServiceDeps {
  readonly store: IdentityStore;
  readonly keys: SigningKeyStore;
  readonly now: () => Date;
  readonly issuer: string;
  readonly lifetimes: IdentityLifetimes;
}

export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly scope: string;
  readonly id_token?: string;
  readonly refresh_token?: string;
}

export interface ClientCredentials {
  readonly clientId: string | undefined;
  readonly clientSecret: string | undefined;
  /** How the client authenticated; several at once is an error (RFC 6749 §2.3). */
  readonly methods: readonly ('client_secret_basic' | 'client_secret_post')[];
}

export interface AccessTokenClaims extends JWTPayload {
  readonly client_id: string;
  readonly scope: string;
  readonly tenant_id?: string;
  readonly role?: string;
  readonly sid?: string;
  readonly fid?: string;
}

const REFRESH_PREFIX = 'cprt';
const CODE_PREFIX = 'cpac';

interface RefreshTokenIds {
  readonly tenantId: string;
  readonly userId: string;
  readonly familyId: string;
  /** Absent in tokens issued before the token named its session. */
  readonly sessionId?: string | undefined;
}

/** `cprt_` + tenant, user, family, session and the secret: the ids let one read fetch everything. */
function formatRefreshToken(ids: RefreshTokenIds & { sessionId: string }, secret: string): string {
  return formatOpaque(REFRESH_PREFIX, [ids.tenantId, ids.userId, ids.familyId, ids.sessionId], secret);
}

function parseRefreshToken(token: string): (RefreshTokenIds & { secret: string }) | null {
  const parsed = parseOpaque(REFRESH_PREFIX, token, 4) ?? parseOpaque(REFRESH_PREFIX, token, 3);
  const [tenantId, userId, familyId, sessionId] = parsed?.parts ?? [];
  if (!parsed || !tenantId || !userId || !familyId || sessionId === '') return null;
  return { tenantId, userId, familyId, sessionId, secret: parsed.secret };
}

export function formatCode(tenantId: string, secret: string): string {
  return formatOpaque(CODE_PREFIX, [tenantId], secret);
}

function invalidGrant(reason: string): OAuthError {
  return new OAuthError('invalid_grant', 'The grant is invalid, expired, or was issued to another client.', 400, reason);
}

export class TokenService {
  constructor(private readonly d: TokenServiceDeps) {}

  /** Authenticates the client at the token, revocation and introspection endpoints. */
  async authenticateClient(c: ClientCredentials): Promise<ManagedApp> {
    if (c.methods.length > 1) throw new OAuthError('invalid_request', 'Use exactly one client authentication method.');
    if (!c.clientId) throw new OAuthError('invalid_client', 'Client authentication failed.', 401, 'no client_id');
    const app = await this.d.store.getAppForGrant(c.clientId);
    if (!app) throw new OAuthError('invalid_client', 'Client authentication failed.', 401, 'unknown client');
    if (app.clientType === 'confidential') {
      if (!c.clientSecret || !clientSecretMatches(app, c.clientSecret, this.d.now())) {
        throw new OAuthError('invalid_client', 'Client authentication failed.', 401, 'bad client secret');
      }
    } else if (c.clientSecret) {
      throw new OAuthError('invalid_client', 'Client authentication failed.', 401, 'public client sent a secret');
    }
    if (app.status !== 'Active') throw new OAuthError('unauthorized_client', 'The application is disabled.', 400, 'app disabled');
    return app;
  }

  async exchangeCode(app: ManagedApp, p: { code?: string | undefined; redirectUri?: string | undefined; codeVerifier?: string | undefined }): Promise<TokenResponse> {
    if (!app.grantTypes.includes('authorization_code')) throw new OAuthError('unauthorized_client', 'The client may not use this grant.');
    if (!p.code || !p.redirectUri) throw new OAuthError('invalid_request', 'code and redirect_uri are required.');
    if (!p.codeVerifier) throw new OAuthError('invalid_request', 'code_verifier is required (PKCE).');
    const parsed = parseOpaque(CODE_PREFIX, p.code, 1);
    const tenantId = parsed?.parts[0];
    if (!parsed || !tenantId) throw invalidGrant('malformed code');
    const now = this.d.now();
    const codeHash = sha256(p.code);
    const { outcome, code } = await this.d.store.redeemCode(tenantId, codeHash, now.toISOString());
    if (outcome === 'reused' && code) {
      // RFC 6749 §4.1.2: a code used twice may be stolen; revoke what the first redemption issued.
      await this.revokeIssuedFromCode(tenantId, code.userId, code.issuedFamilyId, code.issuedAccessTokenJti, code.issuedAccessTokenExp, now);
      throw invalidGrant('code reuse');
    }
    if (outcome !== 'redeemed' || !code) throw invalidGrant(code ? 'expired code' : 'unknown code');
    // Binding checks after marking it used: a failed attempt still burns the code (no retry with guesses).
    if (code.clientId !== app.id) throw invalidGrant('code issued to another client');
    if (code.redirectUri !== p.redirectUri) throw invalidGrant('redirect_uri mismatch');
    if (!pkceMatches(p.codeVerifier, code.codeChallenge)) throw invalidGrant('PKCE verification failed');

    const live = await checkLive(this.d.store, { tenantId, userId: code.userId, clientId: app.id, sessionId: code.sessionId }, now, { knownApp: app });
    if (!live.ok) throw invalidGrant(live.denial);
    const { user, tenant } = live.ctx;

    let refreshToken: string | undefined;
    let familyId: string | null = null;
    if (app.grantTypes.includes('refresh_token') && code.scope.split(' ').includes('offline_access')) {
      familyId = randomUUID();
      const secret = randomSecret();
      refreshToken = formatRefreshToken({ tenantId, userId: user.id, familyId, sessionId: code.sessionId }, secret);
      const family: RefreshFamily = {
        id: familyId,
        tenantId,
        clientId: app.id,
        userId: user.id,
        sessionId: code.sessionId,
        scope: code.scope,
        authTime: code.authTime,
        amr: code.amr,
        currentHash: sha256(secret),
        previousHashes: [],
        generation: 0,
        status: 'Active',
        createdAt: now.toISOString(),
        absoluteExpiresAt: new Date(now.getTime() + this.d.lifetimes.refreshTokenAbsoluteSeconds * 1000).toISOString(),
      };
      await this.d.store.createRefreshFamily(family);
    }
    const access = await this.accessToken(app, { sub: user.id, scope: code.scope, tenant_id: tenantId, role: user.role, sid: code.sessionId, ...(familyId ? { fid: familyId } : {}), auth_time: epoch(code.authTime) }, now);
    await this.d.store.recordCodeIssue(tenantId, codeHash, { familyId, jti: access.jti, exp: access.exp });
    const idToken = await this.idToken(app, {
      sub: user.id,
      nonce: code.nonce,
      authTime: code.authTime,
      amr: code.amr,
      sid: code.sessionId,
      tenantId,
      role: user.role,
      email: user.email,
      accessToken: access.token,
      scope: code.scope,
      tenantDomain: tenant.domain,
    }, now);
    return {
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: this.d.lifetimes.accessTokenSeconds,
      scope: code.scope,
      id_token: idToken,
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
    };
  }

  async refresh(app: ManagedApp, p: { refreshToken?: string | undefined; scope?: string | undefined }): Promise<TokenResponse> {
    if (!app.grantTypes.includes('refresh_token')) throw new OAuthError('unauthorized_client', 'The client may not use this grant.');
    if (!p.refreshToken) throw new OAuthError('invalid_request', 'refresh_token is required.');
    const parsed = parseRefreshToken(p.refreshToken);
    if (!parsed) throw invalidGrant('malformed refresh token');
    const { tenantId, userId, familyId } = parsed;
    const now = this.d.now();
    // One round trip for the family and everything the liveness check needs, when the token names its
    // session (tokens issued before it did: the family first, then the rest).
    const sessionId = parsed.sessionId ?? (await this.d.store.getRefreshFamily(tenantId, userId, familyId))?.sessionId;
    if (sessionId === undefined) throw invalidGrant('unknown family');
    const loaded = await checkLive(this.d.store, { tenantId, userId, clientId: app.id, sessionId }, now, { knownApp: app, familyId });
    const family = loaded.items.family;
    if (!family) throw invalidGrant('unknown family');
    if (family.clientId !== app.id) throw invalidGrant('refresh token of another client');
    if (family.sessionId !== sessionId) throw invalidGrant('malformed refresh token');
    const presented = sha256(parsed.secret);
    if (family.status !== 'Active') throw invalidGrant('family revoked');
    if (presented !== family.currentHash) {
      if (family.previousHashes.includes(presented)) {
        // Replay of a rotated token: someone else holds a copy. Revoke the whole family (RFC 9700 §4.14.2).
        await this.d.store.revokeRefreshFamily(tenantId, userId, familyId, 'refresh token reuse', now.toISOString());
        throw invalidGrant('refresh token reuse: family revoked');
      }
      throw invalidGrant('unknown refresh token');
    }
    if (Date.parse(family.absoluteExpiresAt) <= now.getTime()) throw invalidGrant('refresh token expired (absolute lifetime)');
    let scope = family.scope;
    const requested = (p.scope ?? '').split(' ').filter(Boolean);
    // RFC 6749 §6: an omitted scope means the original grant; an empty or blank one is treated as omitted (§3.1).
    if (requested.length > 0) {
      const granted = family.scope.split(' ');
      if (requested.some((s) => !granted.includes(s))) throw new OAuthError('invalid_scope', 'The requested scope exceeds the original grant.');
      scope = requested.join(' ');
    }
    if (!loaded.ok) throw invalidGrant(loaded.denial);
    // A refresh is session activity (FR-AUTH-005): without this an app that refreshes all day would still
    // lose its session, and with it the refresh token, one idle timeout after the user's last sign-in page.
    // Before the rotation, so that a failed write leaves the presented token valid for a retry.
    const touch = sessionTouch(loaded.ctx.session, now, this.d.lifetimes.sessionIdleSeconds);
    if (touch) await this.d.store.touchSession(loaded.ctx.session, touch.lastSeenAt, touch.idleExpiresAt);
    const secret = randomSecret();
    // Two concurrent refreshes with one token: the conditional write lets exactly one rotate.
    if (!(await this.d.store.rotateRefreshFamily(family, presented, sha256(secret)))) throw invalidGrant('concurrent refresh lost the race');
    const { user, tenant } = loaded.ctx;
    const access = await this.accessToken(app, { sub: userId, scope, tenant_id: tenantId, role: user.role, sid: family.sessionId, fid: familyId, auth_time: epoch(family.authTime) }, now);
    const idToken = scope.split(' ').includes('openid')
      ? await this.idToken(app, { sub: userId, nonce: null, authTime: family.authTime, amr: family.amr, sid: family.sessionId, tenantId, role: user.role, email: user.email, accessToken: access.token, scope, tenantDomain: tenant.domain }, now)
      : undefined;
    return {
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: this.d.lifetimes.accessTokenSeconds,
      scope,
      refresh_token: formatRefreshToken({ tenantId, userId, familyId, sessionId: family.sessionId }, secret),
      ...(idToken ? { id_token: idToken } : {}),
    };
  }

  async clientCredentials(app: ManagedApp, p: { scope?: string | undefined }): Promise<TokenResponse> {
    if (app.clientType !== 'confidential' || !app.grantTypes.includes('client_credentials')) {
      throw new OAuthError('unauthorized_client', 'The client may not use the client_credentials grant.');
    }
    const scope = (p.scope ?? '').split(' ').filter(Boolean);
    // Machine tokens carry no user scopes; API scopes arrive with API keys (issue #5).
    if (scope.length > 0) throw new OAuthError('invalid_scope', 'No scopes are defined for machine clients yet.');
    const access = await this.accessToken(app, { sub: app.id, scope: '' }, this.d.now());
    return { access_token: access.token, token_type: 'Bearer', expires_in: this.d.lifetimes.accessTokenSeconds, scope: '' };
  }

  /**
   * RFC 7009: always 200 for unknown tokens; a client may only revoke its own tokens. The token's form
   * tells its type, so `token_type_hint` is not needed: every type is searched, and an unknown hint is
   * ignored rather than refused (§2.1).
   */
  async revoke(app: ManagedApp, token: string | undefined): Promise<void> {
    if (!token) throw new OAuthError('invalid_request', 'token is required.');
    const now = this.d.now();
    const refresh = parseRefreshToken(token);
    if (refresh) {
      const { tenantId, userId, familyId } = refresh;
      const family = await this.d.store.getRefreshFamily(tenantId, userId, familyId);
      if (family && family.clientId === app.id) {
        const h = sha256(refresh.secret);
        if (h === family.currentHash || family.previousHashes.includes(h)) await this.d.store.revokeRefreshFamily(tenantId, userId, familyId, 'revoked by client', now.toISOString());
      }
      return;
    }
    const claims = await this.verifyAccessToken(token).catch(() => undefined);
    if (claims && claims.client_id === app.id && typeof claims.jti === 'string' && typeof claims.exp === 'number') {
      await this.d.store.revokeAccessToken(claims.tenant_id ?? null, claims.jti, new Date(claims.exp * 1000).toISOString());
    }
  }

  /** RFC 7662. Inactive for anything revoked, expired, unknown, or belonging to a blocked principal. */
  async introspect(app: ManagedApp, token: string | undefined): Promise<Record<string, unknown>> {
    if (!token) throw new OAuthError('invalid_request', 'token is required.');
    const now = this.d.now();
    const refresh = parseRefreshToken(token);
    if (refresh) {
      const { tenantId, userId, familyId } = refresh;
      const sessionId = refresh.sessionId ?? (await this.d.store.getRefreshFamily(tenantId, userId, familyId))?.sessionId;
      if (sessionId === undefined) return { active: false };
      const live = await checkLive(this.d.store, { tenantId, userId, clientId: app.id, sessionId }, now, { knownApp: app, familyId });
      const family = live.items.family;
      if (!family || family.clientId !== app.id || family.sessionId !== sessionId || family.status !== 'Active' || family.currentHash !== sha256(refresh.secret)) return { active: false };
      if (Date.parse(family.absoluteExpiresAt) <= now.getTime()) return { active: false };
      if (!live.ok) return { active: false };
      // A refresh token ends with its session at the latest, so its exp is the earlier of the two absolute limits.
      const exp = Math.min(epoch(family.absoluteExpiresAt), epoch(live.ctx.session.absoluteExpiresAt));
      // No token_type: it is OPTIONAL (RFC 7662 §2.2) and RFC 6749 §5.1 defines none for refresh tokens.
      return { active: true, client_id: family.clientId, sub: userId, scope: family.scope, tenant_id: tenantId, exp, iss: this.d.issuer };
    }
    let claims: AccessTokenClaims;
    try {
      claims = await this.verifyAccessToken(token);
    } catch {
      return { active: false };
    }
    // Before the liveness read: a caller that may not see the token learns nothing else about it.
    if (!(await this.mayIntrospect(app, claims))) return { active: false };
    const state = await this.liveAccessTokenState(claims);
    if (!state.active) return { active: false };
    const c = state.claims;
    return { active: true, token_type: 'Bearer', client_id: c.client_id, sub: c.sub, scope: c.scope, exp: c.exp, iat: c.iat, iss: c.iss, aud: c.aud, jti: c.jti, ...(c.tenant_id ? { tenant_id: c.tenant_id, role: c.role } : {}) };
  }

  /**
   * Who may introspect an access token (RFC 7662 §4: the server decides which tokens a caller may see).
   * The client it was issued to; for a user's token also a client enabled for the token's tenant, a
   * resource server serving that tenant (as Keycloak lets resource servers introspect). A machine token
   * has no tenant: only its own client. Everyone else is told `{"active":false}`, nothing more.
   */
  private async mayIntrospect(app: ManagedApp, claims: AccessTokenClaims): Promise<boolean> {
    if (claims.client_id === app.id) return true;
    if (typeof claims.tenant_id !== 'string' || claims.tenant_id === '') return false;
    // One consistent read, and only in the cross-client case.
    return this.d.store.isAppEnabledForTenant(claims.tenant_id, app.id);
  }

  /** Verifies one of our access tokens and checks it is still usable; used by userinfo and introspection. */
  async accessTokenState(token: string): Promise<{ active: true; claims: AccessTokenClaims } | { active: false; reason: string }> {
    let claims: AccessTokenClaims;
    try {
      claims = await this.verifyAccessToken(token);
    } catch {
      return { active: false, reason: 'invalid token' };
    }
    return this.liveAccessTokenState(claims);
  }

  /** Whether a verified access token is still usable: revocation, session, family, principal and app. */
  private async liveAccessTokenState(claims: AccessTokenClaims): Promise<{ active: true; claims: AccessTokenClaims } | { active: false; reason: string }> {
    const now = this.d.now();
    const jti = typeof claims.jti === 'string' ? claims.jti : undefined;
    const app = await this.d.store.getAppForGrant(claims.client_id);
    if (claims.tenant_id && claims.sub && claims.sid) {
      // One read: the revocation marker, the family and the liveness items together.
      const live = await checkLive(this.d.store, { tenantId: claims.tenant_id, userId: claims.sub, clientId: claims.client_id, sessionId: claims.sid }, now, {
        knownApp: app,
        accessTokenJti: jti,
        familyId: claims.fid,
      });
      if (live.items.accessTokenRevoked) return { active: false, reason: 'token revoked' };
      if (!live.ok) return { active: false, reason: live.denial };
      if (claims.fid && (!live.items.family || live.items.family.status !== 'Active')) return { active: false, reason: 'family revoked' };
    } else {
      if (jti !== undefined && (await this.d.store.isAccessTokenRevoked(claims.tenant_id ?? null, jti))) return { active: false, reason: 'token revoked' };
      if (!app || app.status !== 'Active') return { active: false, reason: 'app disabled' };
    }
    return { active: true, claims };
  }

  private async verifyAccessToken(token: string): Promise<AccessTokenClaims> {
    const jwks = createLocalJWKSet(await this.d.keys.publicJwks());
    const { payload } = await jwtVerify(token, jwks, { issuer: this.d.issuer, typ: 'at+jwt', algorithms: ['ES256'], currentDate: this.d.now() });
    if (typeof payload['client_id'] !== 'string' || typeof payload['scope'] !== 'string') throw new Error('not an access token');
    return payload as AccessTokenClaims;
  }

  private async accessToken(app: ManagedApp, claims: Record<string, unknown>, now: Date): Promise<{ token: string; jti: string; exp: string }> {
    const jti = randomUUID();
    const key = await this.d.keys.current();
    const token = await signJwt(key, { iss: this.d.issuer, aud: this.d.issuer, client_id: app.id, jti, ...claims }, { typ: 'at+jwt', expiresInSeconds: this.d.lifetimes.accessTokenSeconds, now });
    return { token, jti, exp: new Date(now.getTime() + this.d.lifetimes.accessTokenSeconds * 1000).toISOString() };
  }

  private async idToken(
    app: ManagedApp,
    c: { sub: string; nonce: string | null; authTime: string; amr: readonly string[]; sid: string; tenantId: string; role: string; email: string; accessToken: string; scope: string; tenantDomain: string },
    now: Date,
  ): Promise<string> {
    const key = await this.d.keys.current();
    const scopes = c.scope.split(' ');
    return signJwt(
      key,
      {
        iss: this.d.issuer,
        sub: c.sub,
        aud: app.id,
        auth_time: epoch(c.authTime),
        ...(c.nonce ? { nonce: c.nonce } : {}),
        at_hash: atHash(c.accessToken),
        sid: c.sid,
        amr: c.amr,
        tenant_id: c.tenantId,
        tenant_domain: c.tenantDomain,
        role: c.role,
        ...(scopes.includes('email') ? { email: c.email, email_verified: true } : {}),
      },
      { typ: 'JWT', expiresInSeconds: this.d.lifetimes.idTokenSeconds, now },
    );
  }

  private async revokeIssuedFromCode(tenantId: string, userId: string, familyId: string | null, jti: string | null, exp: string | null, now: Date): Promise<void> {
    if (familyId) await this.d.store.revokeRefreshFamily(tenantId, userId, familyId, 'authorization code reuse', now.toISOString());
    if (jti && exp) await this.d.store.revokeAccessToken(tenantId, jti, exp);
  }
}

function epoch(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

export type { AccessDenial };
