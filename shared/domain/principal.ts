import type { Actor } from './audit';
import type { OperatorUser } from './model';

/** Claims we rely on from a verified operator access token. */
export interface VerifiedOperatorToken {
  readonly issuer: string;
  readonly subject: string;
  readonly email: string | undefined;
  readonly groups: readonly string[];
}

/** Verifies a bearer token's signature, issuer, audience and lifetime. Throws AuthenticationError. */
export interface OperatorTokenVerifier {
  verify(token: string): Promise<VerifiedOperatorToken>;
}

export interface OperatorPrincipal {
  /**
   * `developer`: ACT-DEV, may manage applications; `operator`: ACT-OPS, may do everything a developer
   * can; `auditor`: ACT-AUDIT, reads audit logs and tenant metadata only (ADR-0007).
   */
  readonly kind: 'operator' | 'developer' | 'auditor';
  readonly actor: Actor;
  readonly user: OperatorUser;
}

/** A tenant user calling with an access token this control plane issued (ACT-USER). */
export interface UserPrincipal {
  readonly kind: 'user';
  readonly actor: Actor;
  readonly tenantId: string;
  readonly userId: string;
  readonly sessionId: string | null;
  readonly clientId: string;
  /** Read from the store on every request, never trusted from the token. */
  readonly role: 'Owner' | 'Administrator' | 'User';
}

/** A managed application calling with an API key (UC-SYS-APP-AUTH, FR-SYS-002). */
export interface AppKeyPrincipal {
  readonly kind: 'app';
  readonly actor: Actor;
  readonly keyId: string;
  readonly appId: string;
  readonly scopes: readonly string[];
}

export type Principal = OperatorPrincipal | UserPrincipal | AppKeyPrincipal;

export function operatorActor(user: OperatorUser, kind: 'operator' | 'developer' | 'auditor' = 'operator'): Actor {
  // DAT-LOG's actor_type has no Developer: developers are platform Users (the record's role says more).
  return { id: user.id, type: kind === 'operator' ? 'Operator' : 'User', tenantId: null };
}

/** The permission matrix's view of a principal (shared/domain/authorization.ts). */
export function subjectOf(p: Principal): { role: 'Owner' | 'Administrator' | 'User' | 'Operator' | 'Developer' | 'Auditor' | 'AppKey'; tenantId: string | null } {
  if (p.kind === 'user') return { role: p.role, tenantId: p.tenantId };
  if (p.kind === 'app') return { role: 'AppKey', tenantId: null };
  return { role: p.kind === 'operator' ? 'Operator' : p.kind === 'auditor' ? 'Auditor' : 'Developer', tenantId: null };
}
