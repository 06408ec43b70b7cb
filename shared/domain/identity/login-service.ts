/**
 * Sign-in as a sequence of steps (FR-AUTH-001, FR-AUTH-005): the /authorize transaction, the password
 * step, the session, the authorization code. MFA (ERR-AUTH-461) and SSO become further steps between
 * "password accepted" and "session created" without changing the ends.
 */
import { randomUUID } from 'node:crypto';
import type { ManagedApp } from './apps';
import { sessionLive, sessionTouch } from './access';
import type { AuthorizationCode, AuthorizationRequest, IdentityLifetimes, LoginUser, Session } from './model';
import { formatOpaque, parseOpaque, randomSecret, redirectWith, sha256, type AuthorizeValidation } from './oauth';
import type { IdentityStore, PasswordHasher } from './ports';
import { formatCode } from './token-service';
import type { Tenant } from '../tenant';

/** One message for every credential failure: never reveals whether the tenant or the account exists. */
export const LOGIN_FAILED = 'Incorrect organization, email or password.';
export const SESSION_PREFIX = 'cpss';

export interface LoginDeps {
  readonly store: IdentityStore;
  readonly hasher: PasswordHasher;
  readonly now: () => Date;
  readonly issuer: string;
  readonly lifetimes: IdentityLifetimes;
}

export interface Origin {
  readonly ip: string;
  readonly userAgent: string | undefined;
}

export type BeginResult =
  | { readonly kind: 'redirect'; readonly location: string; readonly session?: Session }
  | { readonly kind: 'login'; readonly request: AuthorizationRequest };

export type PasswordResult =
  | { readonly ok: true; readonly location: string; readonly cookie: string; readonly session: Session; readonly user: LoginUser; readonly tenant: Tenant }
  | { readonly ok: false; readonly error: string; readonly reason: string; readonly tenantId: string | null; readonly userId: string | null };

type OkValidation = Extract<AuthorizeValidation, { kind: 'ok' }>;
type CodeRequest = Pick<AuthorizationRequest, 'redirectUri' | 'scope' | 'state' | 'nonce' | 'codeChallenge'>;

export class LoginService {
  constructor(private readonly d: LoginDeps) {}

  /**
   * GET /authorize after validation: reuse a live session (SSO), or start a login transaction. `hint`: the
   * user a verified `id_token_hint` names (OIDC Core §3.1.2.1); a session of anyone else is not reused,
   * so `prompt=none` answers login_required and otherwise the login form is shown.
   */
  async begin(app: ManagedApp, v: OkValidation, sessionCookie: string | undefined, hint?: { readonly sub: string; readonly tenantId: string | null }): Promise<BeginResult> {
    const now = this.d.now();
    const current = sessionCookie ? await this.currentSession(sessionCookie) : null;
    const reusable =
      current !== null &&
      v.prompt !== 'login' &&
      (v.maxAge === null || now.getTime() - Date.parse(current.session.authTime) <= v.maxAge * 1000) &&
      (v.tenantDomain === null || v.tenantDomain === current.tenant.domain) &&
      (hint === undefined || (hint.sub === current.user.id && (hint.tenantId === null || hint.tenantId === current.tenant.id)));
    if (reusable && current) {
      if (!(await this.d.store.isAppEnabledForTenant(current.tenant.id, app.id))) {
        return { kind: 'redirect', location: redirectWith(v.redirectUri, { error: 'access_denied', error_description: 'The application is not enabled for your organization.', state: v.state, iss: this.d.issuer }) };
      }
      const location = await this.issueCode(app, { redirectUri: v.redirectUri, scope: v.scope, state: v.state, nonce: v.nonce, codeChallenge: v.codeChallenge }, current.session);
      return { kind: 'redirect', location, session: current.session };
    }
    if (v.prompt === 'none') {
      return { kind: 'redirect', location: redirectWith(v.redirectUri, { error: 'login_required', error_description: 'The user must sign in.', state: v.state, iss: this.d.issuer }) };
    }
    const request: AuthorizationRequest = {
      id: randomUUID(),
      clientId: app.id,
      redirectUri: v.redirectUri,
      scope: v.scope,
      state: v.state,
      nonce: v.nonce,
      codeChallenge: v.codeChallenge,
      maxAge: v.maxAge,
      prompt: v.prompt === 'login' ? 'login' : null,
      tenantDomain: v.tenantDomain,
      loginHint: v.loginHint,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.d.lifetimes.authorizationRequestSeconds * 1000).toISOString(),
    };
    await this.d.store.putAuthorizationRequest(request);
    return { kind: 'login', request };
  }

  async pendingRequest(id: string | undefined): Promise<AuthorizationRequest | undefined> {
    if (!id || !/^[0-9a-f-]{36}$/.test(id)) return undefined;
    const r = await this.d.store.getAuthorizationRequest(id);
    return r && Date.parse(r.expiresAt) > this.d.now().getTime() ? r : undefined;
  }

  /** The password step. Same message, and the same argon2 cost, whatever the reason for failing. */
  async password(request: AuthorizationRequest, app: ManagedApp, input: { tenantDomain: string; email: string; password: string }, origin: Origin): Promise<PasswordResult> {
    const fail = async (reason: string, tenantId: string | null = null, userId: string | null = null, burn = true): Promise<PasswordResult> => {
      if (burn) await this.d.hasher.burn(input.password);
      return { ok: false, error: LOGIN_FAILED, reason, tenantId, userId };
    };
    if (!/^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$/.test(input.tenantDomain)) return fail('malformed tenant');
    const email = input.email.trim().toLowerCase();
    // Two requests once this environment knows the domain's tenant (tenant + enablement + email together,
    // then the user): a sign-in's CPU is mostly its DynamoDB requests besides the hash (issue #3).
    const { tenant, enabled, user } = await this.d.store.findLoginCandidate(input.tenantDomain, app.id, email.length > 0 && email.length <= 254 ? email : null);
    if (!tenant) return fail('unknown tenant');
    if (tenant.status !== 'Active') return fail('tenant not active', tenant.id);
    if (!enabled) {
      // Not a credential question: saying so reveals nothing about any account.
      return { ok: false, error: 'This application is not enabled for your organization.', reason: 'app not enabled for tenant', tenantId: tenant.id, userId: null };
    }
    if (!user || !user.passwordHash) return fail(user ? 'no password set' : 'unknown user', tenant.id, user?.id ?? null);
    const ok = await this.d.hasher.verify(user.passwordHash, input.password);
    if (!ok) return fail('wrong password', tenant.id, user.id, false);
    if (user.status !== 'Active') return fail(`user ${user.status.toLowerCase()}`, tenant.id, user.id, false);
    if (this.d.hasher.needsRehash(user.passwordHash)) {
      await this.d.store.rehashPassword(tenant.id, user.id, user.passwordHash, await this.d.hasher.hash(input.password));
    }
    const { session, cookie } = this.newSession(tenant.id, user.id, ['pwd'], origin);
    const { code, location } = this.newCode(app, request, session);
    await this.d.store.completeSignIn(session, code, request.id);
    return { ok: true, location, cookie, session, user, tenant };
  }

  private newSession(tenantId: string, userId: string, amr: readonly string[], origin: Origin): { session: Session; cookie: string } {
    const now = this.d.now();
    const secret = randomSecret();
    const session: Session = {
      id: randomUUID(),
      tenantId,
      userId,
      status: 'Active',
      secretHash: sha256(secret),
      authTime: now.toISOString(),
      amr: [...amr],
      createdAt: now.toISOString(),
      lastSeenAt: now.toISOString(),
      idleExpiresAt: new Date(now.getTime() + this.d.lifetimes.sessionIdleSeconds * 1000).toISOString(),
      absoluteExpiresAt: new Date(now.getTime() + this.d.lifetimes.sessionAbsoluteSeconds * 1000).toISOString(),
      ip: origin.ip,
      userAgent: origin.userAgent ?? null,
      revokedReason: null,
    };
    return { session, cookie: formatOpaque(SESSION_PREFIX, [tenantId, userId, session.id], secret) };
  }

  /** The session a cookie names, if its secret matches and it is still live (idle and absolute timeouts). */
  async currentSession(cookie: string): Promise<{ session: Session; tenant: Tenant; user: LoginUser } | null> {
    const parsed = parseOpaque(SESSION_PREFIX, cookie, 3);
    const [tenantId, userId, sessionId] = parsed?.parts ?? [];
    if (!parsed || !tenantId || !userId || !sessionId) return null;
    const session = await this.d.store.getSession(tenantId, userId, sessionId);
    if (!session || session.secretHash !== sha256(parsed.secret)) return null;
    const now = this.d.now();
    if (sessionLive(session, now)) return null;
    const [tenant, user] = await Promise.all([this.d.store.getTenant(tenantId), this.d.store.getUser(tenantId, userId)]);
    if (!tenant || tenant.status !== 'Active' || !user || user.status !== 'Active') return null;
    const touch = sessionTouch(session, now, this.d.lifetimes.sessionIdleSeconds);
    if (touch) await this.d.store.touchSession(session, touch.lastSeenAt, touch.idleExpiresAt);
    return { session, tenant, user };
  }

  /** A code for a live session (the browser is already signed in): no password step, one write. */
  async issueCode(app: ManagedApp, r: CodeRequest, session: Session): Promise<string> {
    const { code, location } = this.newCode(app, r, session);
    await this.d.store.putCode(code);
    return location;
  }

  private newCode(app: ManagedApp, r: CodeRequest, session: Session): { code: AuthorizationCode; location: string } {
    const now = this.d.now();
    const secret = randomSecret();
    const value = formatCode(session.tenantId, secret);
    const code: AuthorizationCode = {
      hash: sha256(value),
      tenantId: session.tenantId,
      clientId: app.id,
      redirectUri: r.redirectUri,
      codeChallenge: r.codeChallenge,
      userId: session.userId,
      sessionId: session.id,
      scope: r.scope,
      nonce: r.nonce,
      authTime: session.authTime,
      amr: session.amr,
      expiresAt: new Date(now.getTime() + this.d.lifetimes.authorizationCodeSeconds * 1000).toISOString(),
      status: 'Unused',
      issuedFamilyId: null,
      issuedAccessTokenJti: null,
      issuedAccessTokenExp: null,
    };
    return { code, location: redirectWith(r.redirectUri, { code: value, state: r.state, iss: this.d.issuer }) };
  }

  /** Logout (UC-LOGOUT) ends the session and every refresh token bound to it. */
  /** Ends a live session and every refresh token bound to it (FR-AUTH-005); false when it had already ended. */
  async endSession(session: Pick<Session, 'tenantId' | 'userId' | 'id'>): Promise<boolean> {
    return this.d.store.revokeSession(session.tenantId, session.userId, session.id, 'logout', this.d.now().toISOString());
  }
}
