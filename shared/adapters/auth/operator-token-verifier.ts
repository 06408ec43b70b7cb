import { JwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { JwtBaseError } from 'aws-jwt-verify/error';
import { z } from 'zod';
import { AuthenticationError, UnavailableError } from '../../domain/errors';
import type { OperatorTokenVerifier, VerifiedOperatorToken } from '../../domain/principal';
import { assertSafeIdpUrl, LoopbackAwareFetcher } from './loopback-fetcher';

export interface OperatorVerifierConfig {
  readonly issuer: string;
  readonly audience: string;
  readonly groupsClaim: string;
  /** Optional: skip discovery when the IdP's JWKS location is known. */
  readonly jwksUri?: string | undefined;
}

const discoverySchema = z.object({ issuer: z.string(), jwks_uri: z.string().url() });

/** Fetch errors mean the IdP is unreachable (503); anything else from the library means a bad token (401). */
function isFetchFailure(err: unknown): boolean {
  return err instanceof JwtBaseError && /Fetch/.test(err.name);
}

/**
 * Verifies operator access tokens issued by the external IdP (FR-SYS-004) with aws-jwt-verify: signature
 * from the issuer's JWKS (cached per execution environment, refetched on an unknown kid), iss, aud, exp,
 * nbf. The JWKS location comes from the issuer's discovery document, fetched once.
 */
export class AwsJwtOperatorVerifier implements OperatorTokenVerifier {
  private verifier: Promise<ReturnType<typeof JwtVerifier.create>> | undefined;
  private readonly fetcher = new LoopbackAwareFetcher();

  constructor(private readonly config: OperatorVerifierConfig) {
    assertSafeIdpUrl(config.issuer);
  }

  async verify(token: string): Promise<VerifiedOperatorToken> {
    const verifier = await this.getVerifier();
    let payload: Record<string, unknown>;
    try {
      payload = await verifier.verify(token);
    } catch (err) {
      if (isFetchFailure(err)) throw new UnavailableError('operator IdP JWKS unreachable', err);
      const name = err instanceof Error ? err.name : 'unknown';
      throw new AuthenticationError(`token rejected: ${name}`);
    }
    const sub = payload['sub'];
    if (typeof sub !== 'string' || sub.length === 0) throw new AuthenticationError('token rejected: no subject');
    const rawGroups = payload[this.config.groupsClaim];
    const groups = Array.isArray(rawGroups) ? rawGroups.filter((g): g is string => typeof g === 'string') : typeof rawGroups === 'string' ? [rawGroups] : [];
    const email = payload['email'];
    return { issuer: this.config.issuer, subject: sub, email: typeof email === 'string' ? email : undefined, groups };
  }

  private getVerifier(): Promise<ReturnType<typeof JwtVerifier.create>> {
    this.verifier ??= this.build().catch((err: unknown) => {
      // Do not cache a failed discovery: the next request tries again.
      this.verifier = undefined;
      throw err instanceof AuthenticationError ? err : new UnavailableError('operator IdP discovery failed', err);
    });
    return this.verifier;
  }

  private async build(): Promise<ReturnType<typeof JwtVerifier.create>> {
    const jwksUri = this.config.jwksUri ?? (await this.discoverJwksUri());
    assertSafeIdpUrl(jwksUri);
    return JwtVerifier.create(
      { issuer: this.config.issuer, audience: this.config.audience, jwksUri },
      { jwksCache: new SimpleJwksCache({ fetcher: this.fetcher }) },
    );
  }

  private async discoverJwksUri(): Promise<string> {
    const base = this.config.issuer.replace(/\/$/, '');
    const body = await this.fetcher.fetch(`${base}/.well-known/openid-configuration`);
    const doc = discoverySchema.parse(JSON.parse(new TextDecoder().decode(body)));
    if (doc.issuer !== this.config.issuer) throw new Error('discovery issuer mismatch');
    return doc.jwks_uri;
  }
}
