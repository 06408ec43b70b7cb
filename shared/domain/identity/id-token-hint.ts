/**
 * RP-Initiated Logout 1.0 §2: when `id_token_hint` is present, the OP MUST verify that it issued that ID
 * token. The hint may have expired (an app signs its user out long after sign-in), so expiry is not
 * checked; the signature, the issuer and the token type are.
 */
import { compactVerify, createLocalJWKSet, type JWK } from 'jose';

export interface IdTokenHint {
  /** The client the ID token was issued to: its `aud`. */
  readonly clientId: string;
  readonly sub: string;
  /** The session the ID token belongs to (OIDC Front-/Back-Channel Logout `sid`); ours always carry one. */
  readonly sid: string | null;
  readonly tenantId: string | null;
}

/**
 * The hint's claims when it is an ID token we signed with a key still in our JWKS (current, next or a
 * replaced one within its retirement window); `null` for anything else: a forged or altered signature,
 * an unknown `kid`, `alg: none` or HS*, another issuer, an access token (`typ: at+jwt`), a malformed value.
 */
export async function verifyIdTokenHint(hint: string, jwks: { keys: JWK[] }, issuer: string): Promise<IdTokenHint | null> {
  let header: { typ?: string | undefined };
  let claims: Record<string, unknown>;
  try {
    const verified = await compactVerify(hint, createLocalJWKSet(jwks), { algorithms: ['ES256'] });
    header = verified.protectedHeader;
    claims = JSON.parse(new TextDecoder().decode(verified.payload)) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return null;
  // Our ID tokens are typed JWT; access tokens (at+jwt), also signed by these keys, are not hints.
  if (header.typ !== 'JWT' || claims['iss'] !== issuer) return null;
  const aud = claims['aud'];
  const clientId = typeof aud === 'string' ? aud : Array.isArray(aud) && aud.length === 1 && typeof aud[0] === 'string' ? aud[0] : null;
  if (clientId === null || typeof claims['sub'] !== 'string') return null;
  return {
    clientId,
    sub: claims['sub'],
    sid: typeof claims['sid'] === 'string' ? claims['sid'] : null,
    tenantId: typeof claims['tenant_id'] === 'string' ? claims['tenant_id'] : null,
  };
}
