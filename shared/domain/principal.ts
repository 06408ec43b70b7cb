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
  readonly kind: 'operator';
  readonly actor: Actor;
  readonly user: OperatorUser;
}

export type Principal = OperatorPrincipal;

export function operatorActor(user: OperatorUser): Actor {
  return { id: user.id, type: 'Operator', tenantId: null };
}
