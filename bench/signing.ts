/**
 * ES256 token signing throughput (ADR-0005, NFR-PERF-004): `signJwt` with a non-extractable key as the
 * SigningKeyStore adapters hand it out, one token at a time (concurrency 1), so the figure is what one
 * core of one execution environment does. No KMS, no I/O: under ADR-0005 option (b) KMS is called once
 * per environment, never per token. Wired into bench/run.ts by the caller.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { atHash, generateSigningKey, importSigningKey, signJwt, type SignJwtOptions } from '../shared/domain/identity/jwt';
import type { ActiveSigningKey } from '../shared/domain/identity/ports';

export interface SigningBenchResult {
  name: string;
  requests: number;
  concurrency: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
}

const SECONDS_PER_CASE = 3;
const WARMUP_TOKENS = 500;
const ISSUER = 'https://auth.eu-central-1.example.com/t/6f1a2b3c-0000-4000-8000-000000000001';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** RFC 9068 access token as issue #3 will issue it: tenant, session, scopes, 10-minute lifetime. */
function accessTokenClaims(): Record<string, unknown> {
  return {
    iss: ISSUER,
    sub: '0b7c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3',
    aud: 'https://api.eu-central-1.example.com',
    client_id: 'a1b2c3d4e5f6a7b8c9d0',
    scope: 'openid profile email flags:read logs:write',
    jti: randomUUID(),
    tid: '6f1a2b3c-0000-4000-8000-000000000001',
    sid: randomUUID(),
    auth_time: 1_795_000_000,
  };
}

/** OIDC Core ID token: identity claims, nonce, at_hash of the access token issued with it. */
function idTokenClaims(accessToken: string): Record<string, unknown> {
  return {
    iss: ISSUER,
    sub: '0b7c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3',
    aud: 'a1b2c3d4e5f6a7b8c9d0',
    auth_time: 1_795_000_000,
    nonce: 'n-0S6_WzA2Mj',
    at_hash: atHash(accessToken),
    sid: randomUUID(),
    email: 'jane.doe@acme.example',
    email_verified: true,
    name: 'Jane Doe',
    tid: '6f1a2b3c-0000-4000-8000-000000000001',
    role: 'Admin',
    amr: ['pwd'],
  };
}

async function measure(name: string, key: ActiveSigningKey, claims: () => Record<string, unknown>, options: Omit<SignJwtOptions, 'now'>): Promise<SigningBenchResult> {
  for (let i = 0; i < WARMUP_TOKENS; i++) await signJwt(key, claims(), { ...options, now: new Date() });
  const latencies: number[] = [];
  let errors = 0;
  const t0 = performance.now();
  const stopAt = t0 + SECONDS_PER_CASE * 1000;
  while (performance.now() < stopAt) {
    // Claims are built outside the timed span: the figure is the cost of signing, not of the payload.
    const payload = claims();
    const s = performance.now();
    try {
      const token = await signJwt(key, payload, { ...options, now: new Date() });
      if (token.length === 0) errors++;
    } catch {
      errors++;
    }
    latencies.push(performance.now() - s);
  }
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    name,
    requests: latencies.length,
    concurrency: 1,
    perSecond: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    errors,
  };
}

export async function benchSigning(): Promise<SigningBenchResult[]> {
  // The same generation and import path as the adapters: a non-extractable P-256 CryptoKey.
  const generated = await generateSigningKey();
  const key = await importSigningKey(generated.kid, generated.privateJwk);
  const sampleAccessToken = await signJwt(key, accessTokenClaims(), { typ: 'at+jwt', expiresInSeconds: 600, now: new Date() });
  return [
    await measure('ES256 signJwt access token (at+jwt, in process)', key, accessTokenClaims, { typ: 'at+jwt', expiresInSeconds: 600 }),
    await measure('ES256 signJwt ID token (JWT, in process)', key, () => idTokenClaims(sampleAccessToken), { typ: 'JWT', expiresInSeconds: 600 }),
  ];
}
