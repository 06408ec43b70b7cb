/**
 * FR-AUTH-004: "forgot password" by email. The same answer whether or not the account exists; a
 * single-use token that expires; success ends every session of the user (FR-AUTH-005).
 */
import { randomUUID } from 'node:crypto';
import { BusinessRuleError, ConflictError, isAppError } from '../errors';
import { passwordChangedMail, passwordResetMail } from './mail-templates';
import type { PasswordReset } from './model';
import { formatOpaque, parseOpaque, randomSecret, sha256 } from './oauth';
import { checkPassword, describePolicy, type PasswordPolicy } from './password-policy';
import type { IdentityStore, Mailer, PasswordHasher } from './ports';

export const RESET_TOKEN_PREFIX = 'cprst';
export const RESET_LIFETIME_SECONDS = 30 * 60;

export interface ResetDeps {
  readonly store: IdentityStore;
  readonly hasher: PasswordHasher;
  readonly mailer: Mailer;
  readonly now: () => Date;
  readonly issuer: string;
  /** The tenant's password policy (FR-AUTH-006). */
  readonly policyOf: (tenantId: string) => Promise<PasswordPolicy>;
}

export interface LoadedReset {
  readonly reset: PasswordReset;
  readonly email: string;
  readonly tenantDomain: string;
  readonly hints: readonly string[];
  readonly policy: PasswordPolicy;
}

export class PasswordResetService {
  constructor(private readonly d: ResetDeps) {}

  /**
   * Returns what happened for the audit trail; the caller shows the same page in every case. Unknown
   * accounts cost a hash of the same size as known ones do (the token hash), not a mail.
   */
  async request(tenantDomain: string, email: string, requestIp: string): Promise<{ outcome: 'sent' | 'no-account'; tenantId: string | null; userId: string | null }> {
    const tenant = /^[a-z0-9-]{3,63}$/.test(tenantDomain) ? await this.d.store.findTenantByDomain(tenantDomain) : undefined;
    const user = tenant && tenant.status === 'Active' ? await this.d.store.findUserByEmail(tenant.id, email.trim().toLowerCase()) : undefined;
    if (!tenant || !user || user.status !== 'Active') return { outcome: 'no-account', tenantId: tenant?.id ?? null, userId: user?.id ?? null };
    const now = this.d.now();
    const id = randomUUID();
    const token = formatOpaque(RESET_TOKEN_PREFIX, [tenant.id, id], randomSecret());
    const expiresAt = new Date(now.getTime() + RESET_LIFETIME_SECONDS * 1000);
    await this.d.store.createPasswordReset({ id, tenantId: tenant.id, userId: user.id, tokenHash: sha256(token), status: 'Pending', createdAt: now.toISOString(), expiresAt: expiresAt.toISOString() });
    await this.d.mailer.send(passwordResetMail({ to: user.email, resetUrl: `${this.d.issuer}/password/reset?token=${encodeURIComponent(token)}`, expiresAt, tenantId: tenant.id, requestIp }));
    return { outcome: 'sent', tenantId: tenant.id, userId: user.id };
  }

  /** The reset a token names, if it is pending, unexpired and the hash matches. */
  async load(token: string | undefined): Promise<LoadedReset | null> {
    const parsed = token ? parseOpaque(RESET_TOKEN_PREFIX, token, 2) : null;
    const [tenantId, resetId] = parsed?.parts ?? [];
    if (!parsed || !tenantId || !resetId || !/^[0-9a-f-]{36}$/.test(resetId)) return null;
    const reset = await this.d.store.getPasswordReset(tenantId, resetId);
    if (!reset || reset.status !== 'Pending' || reset.tokenHash !== sha256(token!) || Date.parse(reset.expiresAt) <= this.d.now().getTime()) return null;
    const [tenant, user] = await Promise.all([this.d.store.getTenant(tenantId), this.d.store.getUser(tenantId, reset.userId)]);
    if (!tenant || !user || user.status !== 'Active') return null;
    const policy = await this.d.policyOf(tenantId);
    return { reset, email: user.email, tenantDomain: tenant.domain, hints: describePolicy(policy), policy };
  }

  /** Policy violations → ERR-VAL-422 naming each rule; success ends all sessions and refresh tokens. */
  async complete(loaded: LoadedReset, password: string): Promise<{ sessionsEnded: number }> {
    const violations = checkPassword(password, loaded.policy, { email: loaded.email, tenantDomain: loaded.tenantDomain });
    if (violations.length > 0) {
      throw new BusinessRuleError(
        'The password does not meet the policy.',
        violations.map((v) => ({ location: 'body', pointer: '/password', detail: `${v.rule}: ${v.message}` })),
      );
    }
    const at = this.d.now();
    try {
      await this.d.store.completePasswordReset(loaded.reset, await this.d.hasher.hash(password), at.toISOString());
    } catch (err) {
      if (isAppError(err) && err.code === 'ERR-VAL-409') throw new ConflictError('This reset link was already used.');
      throw err;
    }
    const sessionsEnded = await this.d.store.revokeAllUserSessions(loaded.reset.tenantId, loaded.reset.userId, 'password reset', at.toISOString());
    await this.d.mailer.send(passwordChangedMail({ to: loaded.email, tenantId: loaded.reset.tenantId, at }));
    return { sessionsEnded };
  }
}

/** Throttles for sign-in and reset (ERR-RATE-429): per IP and per account, counted whether or not it exists. */
export const RATE_LIMITS = {
  loginPerIp: { limit: 60, windowSeconds: 60 },
  loginPerAccount: { limit: 10, windowSeconds: 900 },
  resetPerIp: { limit: 10, windowSeconds: 3600 },
  resetPerAccount: { limit: 3, windowSeconds: 3600 },
} as const;
