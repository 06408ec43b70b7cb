/**
 * Managed applications are OAuth clients (DAT-APP, FR-SYS-001/003). Rules that need no I/O live here.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export const APP_ENVIRONMENTS = ['development', 'staging', 'production'] as const;
export const CLIENT_TYPES = ['confidential', 'public'] as const;
export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;

/**
 * How long the token endpoint may use an application record it read before (FR-SYS-003, ADR-0010):
 * disabling an app or rotating its secret reaches new grants in every execution environment within this
 * time, and at once in the environment that made the change. Access tokens already issued stay valid
 * until they expire either way; one second is far inside that.
 */
export const CLIENT_CACHE_SECONDS = 1;
export type GrantType = (typeof GRANT_TYPES)[number];
export type ClientType = (typeof CLIENT_TYPES)[number];

export interface ClientSecret {
  /** SHA-256 of the secret (it has 256 bits of entropy, so a slow hash adds nothing). */
  readonly hash: string;
  readonly createdAt: string;
  /** Set when a newer secret replaced this one: valid until then (rotation grace). */
  readonly expiresAt: string | null;
}

export interface ManagedApp {
  readonly id: string;
  readonly name: string;
  readonly environment: (typeof APP_ENVIRONMENTS)[number];
  readonly clientType: ClientType;
  readonly grantTypes: readonly GrantType[];
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris: readonly string[];
  readonly status: 'Active' | 'Disabled';
  readonly ownerId: string;
  readonly secrets: readonly ClientSecret[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * Redirect URIs are compared by exact string match (OAuth 2.1, RFC 9700 §4.1.3), so they are stored as
 * given. https is required except for loopback hosts (native apps, RFC 8252 §7.3) and private-use schemes.
 */
export const redirectUriSchema = z
  .string()
  .max(2048, 'must be at most 2048 characters')
  .refine((s) => {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      return false;
    }
    if (u.hash) return false;
    if (u.protocol === 'https:') return true;
    if (u.protocol === 'http:') return u.hostname === '127.0.0.1' || u.hostname === '[::1]' || u.hostname === 'localhost';
    // Private-use URI scheme for native apps (RFC 8252 §7.1): reverse-domain, contains a dot.
    return /^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:$/.test(u.protocol);
  }, 'must be an absolute https URL without fragment (http only for loopback, or a private-use scheme)');

export const registerAppBody = z
  .strictObject({
    name: z.string().trim().min(1, 'must not be empty').max(128, 'must be at most 128 characters'),
    environment: z.enum(APP_ENVIRONMENTS).default('production'),
    clientType: z.enum(CLIENT_TYPES),
    grantTypes: z.array(z.enum(GRANT_TYPES)).min(1, 'must name at least one grant type').max(3).optional(),
    redirectUris: z.array(redirectUriSchema).max(20, 'at most 20').default([]),
    postLogoutRedirectUris: z.array(redirectUriSchema).max(20, 'at most 20').default([]),
  })
  .transform((b) => ({
    ...b,
    grantTypes: b.grantTypes ?? (b.clientType === 'public' ? (['authorization_code', 'refresh_token'] as GrantType[]) : (['authorization_code', 'refresh_token'] as GrantType[])),
  }))
  .superRefine((b, ctx) => {
    if (b.clientType === 'public' && b.grantTypes.includes('client_credentials')) {
      ctx.addIssue({ code: 'custom', path: ['grantTypes'], message: 'client_credentials needs a confidential client' });
    }
    if (b.grantTypes.includes('authorization_code') && b.redirectUris.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['redirectUris'], message: 'authorization_code needs at least one redirect URI' });
    }
  });
export type RegisterAppInput = z.infer<typeof registerAppBody>;

export const updateAppBody = z.strictObject({
  name: z.string().trim().min(1).max(128).optional(),
  redirectUris: z.array(redirectUriSchema).max(20).optional(),
  postLogoutRedirectUris: z.array(redirectUriSchema).max(20).optional(),
  status: z.enum(['Active', 'Disabled']).optional(),
});
export type UpdateAppInput = z.infer<typeof updateAppBody>;

/** Secrets are shown once (FR-SYS-002): `cps_` makes them recognisable to secret scanners. */
export function newClientSecret(): string {
  return `cps_${randomBytes(32).toString('base64url')}`;
}

export function hashClientSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** Constant-time comparison against every secret still valid at `now` (current and in-grace). */
export function clientSecretMatches(app: ManagedApp, presented: string, now: Date): boolean {
  const candidate = Buffer.from(hashClientSecret(presented), 'utf8');
  let ok = false;
  for (const s of app.secrets) {
    const stored = Buffer.from(s.hash, 'utf8');
    const live = s.expiresAt === null || Date.parse(s.expiresAt) > now.getTime();
    // Evaluate every secret, matched or not, so timing does not reveal which one matched.
    const same = stored.length === candidate.length && timingSafeEqual(stored, candidate);
    ok = ok || (same && live);
  }
  return ok;
}

/** Rotation: the new secret becomes current, the old one stays valid for the grace period. */
export function rotateSecrets(app: ManagedApp, newHash: string, now: Date, graceSeconds: number): ClientSecret[] {
  const graceEnd = new Date(now.getTime() + graceSeconds * 1000).toISOString();
  const kept = app.secrets
    .filter((s) => s.expiresAt === null || Date.parse(s.expiresAt) > now.getTime())
    .map((s) => ({ ...s, expiresAt: s.expiresAt === null ? graceEnd : s.expiresAt < graceEnd ? s.expiresAt : graceEnd }));
  return [{ hash: newHash, createdAt: now.toISOString(), expiresAt: null }, ...kept].slice(0, 3);
}

export function appView(app: ManagedApp): Record<string, unknown> {
  return {
    id: app.id,
    clientId: app.id,
    name: app.name,
    environment: app.environment,
    clientType: app.clientType,
    grantTypes: app.grantTypes,
    redirectUris: app.redirectUris,
    postLogoutRedirectUris: app.postLogoutRedirectUris,
    status: app.status,
    ownerId: app.ownerId,
    secrets: app.secrets.map((s) => ({ createdAt: s.createdAt, expiresAt: s.expiresAt })),
    createdAt: app.createdAt,
    updatedAt: app.updatedAt,
  };
}
