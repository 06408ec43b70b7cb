/**
 * Token signing helpers (ADR-0005): pure functions over jose, no I/O. The key comes from a
 * SigningKeyStore; which claims a token carries is the token service's business, not this module's.
 */
import { createHash } from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { ActiveSigningKey } from './ports';

/** The public half of an ES256 key, exactly the members RFC 7638 hashes for EC keys. */
export interface Es256PublicJwk {
  readonly kty: 'EC';
  readonly crv: 'P-256';
  readonly x: string;
  readonly y: string;
}
export interface Es256PrivateJwk extends Es256PublicJwk {
  readonly d: string;
}

/** A freshly generated key pair. The private JWK is plaintext key material: encrypt or store it, never log it. */
export interface GeneratedSigningKey {
  /** RFC 7638 JWK thumbprint (SHA-256) of the public key: stable, and changes only when the key does. */
  readonly kid: string;
  readonly publicJwk: Es256PublicJwk;
  readonly privateJwk: Es256PrivateJwk;
}

/** Key generation for both SigningKeyStore adapters, so the local and AWS keys are the same kind of key. */
export async function generateSigningKey(): Promise<GeneratedSigningKey> {
  // Extractable only so the private key can be exported once, for storage; the key that signs is
  // re-imported non-extractable by importSigningKey.
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || jwk.x === undefined || jwk.y === undefined || jwk.d === undefined) {
    throw new Error('generateSigningKey: jose returned an unexpected key type');
  }
  const publicJwk: Es256PublicJwk = { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
  return { kid: await calculateJwkThumbprint(publicJwk, 'sha256'), publicJwk, privateJwk: { ...publicJwk, d: jwk.d } };
}

/**
 * Turn stored key material into the key that signs. Checks that `kid` is the thumbprint of the public key;
 * that the private scalar belongs to that public key is checked by Node's WebCrypto import itself (it
 * rejects a mismatched EC JWK with "Invalid keyData"; test/unit/jwt.test.ts pins that). So a corrupted or
 * swapped record fails here rather than producing tokens no verifier accepts. The CryptoKey returned is
 * non-extractable.
 */
export async function importSigningKey(kid: string, privateJwk: Es256PrivateJwk): Promise<ActiveSigningKey> {
  const publicJwk: Es256PublicJwk = { kty: privateJwk.kty, crv: privateJwk.crv, x: privateJwk.x, y: privateJwk.y };
  if ((await calculateJwkThumbprint(publicJwk, 'sha256')) !== kid) {
    throw new Error(`importSigningKey: key material does not match kid ${kid}`);
  }
  const privateKey = await importJWK({ ...privateJwk }, 'ES256', { extractable: false }).catch((err: unknown) => {
    throw new Error(`importSigningKey: the private key of kid ${kid} is not a valid P-256 key for its public key`, { cause: err });
  });
  return { kid, alg: 'ES256', privateKey };
}

/** The JWKS entry for a key (RFC 7517): the public members plus kid, use and alg, nothing private. */
export function publishedJwk(kid: string, publicJwk: Es256PublicJwk): JWK {
  return { kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y, kid, use: 'sig', alg: 'ES256' };
}

export interface SignJwtOptions {
  /** `at+jwt` for RFC 9068 access tokens, `JWT` for ID tokens (OIDC Core). */
  readonly typ: 'JWT' | 'at+jwt';
  readonly expiresInSeconds: number;
  /** The issuing time; iat (and nbf when asked for) is this instant in whole seconds. */
  readonly now: Date;
  /** Also set nbf = iat. Off by default: neither RFC 9068 nor OIDC Core requires it. */
  readonly notBefore?: boolean;
}

/** Claims this module owns: a caller-supplied value would be silently replaced, so refuse it instead. */
const TIME_CLAIMS = ['iat', 'exp', 'nbf'] as const;

/**
 * Sign an ES256 JWS with header `{ alg: 'ES256', kid, typ }`. ES256 is the only algorithm this function
 * can produce (RFC 8725: never `none`, never HS*): the algorithm is fixed here, not taken from the key or
 * the caller, and a key that is not a P-256 private key is rejected by jose.
 */
export async function signJwt(key: ActiveSigningKey, claims: Record<string, unknown>, options: SignJwtOptions): Promise<string> {
  // The type already says 'ES256'; this guards callers that cast, since a wrong alg here would be a
  // token-forgery class bug rather than a typo.
  if (key.alg !== 'ES256') throw new TypeError(`signJwt: unsupported signing algorithm ${String(key.alg)}`);
  if (key.kid.length === 0) throw new TypeError('signJwt: the signing key has no kid');
  if (!Number.isSafeInteger(options.expiresInSeconds) || options.expiresInSeconds <= 0) {
    throw new RangeError('signJwt: expiresInSeconds must be a positive integer');
  }
  const nowMs = options.now.getTime();
  if (!Number.isFinite(nowMs)) throw new RangeError('signJwt: now is not a valid date');
  for (const c of TIME_CLAIMS) {
    if (c in claims) throw new TypeError(`signJwt: claim ${c} is set from options, not from claims`);
  }

  const iat = Math.floor(nowMs / 1000);
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: options.typ })
    .setIssuedAt(iat)
    .setExpirationTime(iat + options.expiresInSeconds);
  if (options.notBefore === true) jwt.setNotBefore(iat);
  return jwt.sign(key.privateKey);
}

/**
 * OIDC Core 3.1.3.6 `at_hash` for an ES256-signed ID token: base64url of the left-most half of the
 * SHA-256 hash (SHA-256 because ES256 uses it) of the ASCII octets of the access token.
 */
export function atHash(accessToken: string): string {
  // RFC 6749 tokens are VSCHAR; anything else would hash differently depending on the encoding chosen.
  if (!/^[\x20-\x7e]+$/.test(accessToken)) throw new TypeError('atHash: the access token is not printable ASCII');
  return createHash('sha256').update(accessToken, 'ascii').digest().subarray(0, 16).toString('base64url');
}
