/**
 * OAuth 2.0 / OpenID Connect rules with no I/O: request validation, PKCE, opaque token formats.
 * RFC 6749, RFC 7636, OIDC Core 1.0, and the OAuth 2.0 Security BCP (RFC 9700).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ManagedApp } from './apps';

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'unsupported_response_type'
  | 'access_denied'
  | 'login_required'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'unsupported_token_type'
  | 'request_not_supported'
  | 'request_uri_not_supported';

/** An error in the OAuth wire format (RFC 6749 §5.2). `status` is the HTTP status at the token endpoint. */
export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly status = 400,
    /** Why, for the audit record and logs; not shown. */
    readonly reason?: string,
  ) {
    super(description);
    this.name = 'OAuthError';
  }
}

/**
 * An error of a protected resource (RFC 6750 §3, the userinfo endpoint): rendered with a `Bearer`
 * challenge, at the status §3.1 gives each code. `withoutErrorInfo`: the request carried no token at all,
 * so the challenge and the body carry no error information (§3.1); the code is kept for logs only.
 */
export class BearerError extends OAuthError {
  constructor(
    error: 'invalid_request' | 'invalid_token' | 'insufficient_scope',
    description: string,
    reason?: string,
    readonly options: { readonly withoutErrorInfo?: boolean; readonly scope?: string } = {},
  ) {
    super(error, description, error === 'invalid_request' ? 400 : error === 'insufficient_scope' ? 403 : 401, reason);
    this.name = 'BearerError';
  }
}

export const SUPPORTED_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;

const PKCE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
const PKCE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

export function pkceMatches(verifier: string, challenge: string): boolean {
  if (!PKCE_VERIFIER.test(verifier)) return false;
  const a = Buffer.from(s256(verifier));
  const b = Buffer.from(challenge);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}

export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * Opaque tokens (codes, refresh tokens, session cookies) carry the ids needed to find their record —
 * tenant and record id — plus a secret of which only a hash is stored. The prefix tells scanners and
 * humans what leaked.
 */
export function formatOpaque(prefix: string, parts: readonly string[], secret: string): string {
  return `${prefix}_${[...parts, secret].map((p) => Buffer.from(p, 'utf8').toString('base64url')).join('.')}`;
}

export function parseOpaque(prefix: string, token: string, partCount: number): { parts: string[]; secret: string } | null {
  if (typeof token !== 'string' || token.length > 512 || !token.startsWith(`${prefix}_`)) return null;
  const segs = token.slice(prefix.length + 1).split('.');
  if (segs.length !== partCount + 1 || segs.some((s) => !/^[A-Za-z0-9_-]+$/.test(s))) return null;
  const decoded = segs.map((s) => Buffer.from(s, 'base64url').toString('utf8'));
  const secret = decoded.pop() ?? '';
  return { parts: decoded, secret };
}

/** Exact string comparison (RFC 9700 §4.1.3): no normalisation, no prefix or pattern matching. */
export function redirectUriRegistered(app: ManagedApp, redirectUri: string): boolean {
  return app.redirectUris.includes(redirectUri);
}

export interface AuthorizeParams {
  readonly [name: string]: string | undefined;
}

export type AuthorizeValidation =
  /** The client or redirect URI cannot be trusted: show an error page, never redirect (RFC 6749 §4.1.2.1). */
  | { readonly kind: 'error-page'; readonly title: string; readonly reason: string }
  /** The redirect URI is trusted: report the error to the client. */
  | { readonly kind: 'redirect-error'; readonly redirectUri: string; readonly state: string | null; readonly error: OAuthErrorCode; readonly description: string }
  | {
      readonly kind: 'ok';
      readonly redirectUri: string;
      readonly scope: string;
      readonly state: string | null;
      readonly nonce: string | null;
      readonly codeChallenge: string;
      readonly maxAge: number | null;
      /**
       * `login`: show the login form even with a live session (prompt=login, and prompt=select_account,
       * since the form is where another account is chosen). `consent` asks nothing: the tenant's
       * enablement of the application is the administrator's consent (UC-PROV-001).
       */
      readonly prompt: 'none' | 'login' | null;
      readonly tenantDomain: string | null;
      readonly loginHint: string | null;
    };

/** Validates an authorization request against a registered client (`app` undefined: unknown client). */
export function validateAuthorizeRequest(p: AuthorizeParams, app: ManagedApp | undefined): AuthorizeValidation {
  if (!p['client_id'] || !app) return { kind: 'error-page', title: 'Unknown application', reason: 'unknown client_id' };
  const redirectUri = p['redirect_uri'];
  if (!redirectUri || !redirectUriRegistered(app, redirectUri)) {
    return { kind: 'error-page', title: 'Invalid redirect URI', reason: 'redirect_uri not registered for the client' };
  }
  const state = p['state'] ?? null;
  const fail = (error: OAuthErrorCode, description: string): AuthorizeValidation => ({ kind: 'redirect-error', redirectUri, state, error, description });
  // OIDC Core §3.1.2.6: request objects have error codes of their own. Empty values count as omitted (RFC 6749 §3.1).
  if (p['request']) return fail('request_not_supported', 'request objects are not supported');
  if (p['request_uri']) return fail('request_uri_not_supported', 'request_uri is not supported');
  if (app.status !== 'Active') return fail('unauthorized_client', 'the application is disabled');
  // RFC 6749 §4.1.2.1: a missing parameter is invalid_request; only a value we do not offer is unsupported.
  if (!p['response_type']) return fail('invalid_request', 'response_type is required');
  if (p['response_type'] !== 'code') return fail('unsupported_response_type', 'only response_type=code is supported');
  if (!app.grantTypes.includes('authorization_code')) return fail('unauthorized_client', 'the client may not use the authorization code flow');
  if (p['response_mode'] !== undefined && p['response_mode'] !== 'query') return fail('invalid_request', 'only response_mode=query is supported');
  const requested = (p['scope'] ?? '').split(' ').filter(Boolean);
  if (!requested.includes('openid')) return fail('invalid_scope', 'the openid scope is required');
  // OIDC Core §3.1.2.1: scope values we do not understand SHOULD be ignored; the grant holds the known ones.
  const scopes = [...new Set(requested.filter((s) => (SUPPORTED_SCOPES as readonly string[]).includes(s)))];
  // PKCE with S256 for every client (RFC 9700 §2.1.1); `plain` offers no protection against a leaked code.
  const challenge = p['code_challenge'];
  const method = p['code_challenge_method'];
  if (!challenge) return fail('invalid_request', 'code_challenge is required (PKCE)');
  if (method !== 'S256') return fail('invalid_request', 'code_challenge_method must be S256');
  if (!PKCE_CHALLENGE.test(challenge)) return fail('invalid_request', 'code_challenge is malformed');
  let maxAge: number | null = null;
  if (p['max_age'] !== undefined) {
    if (!/^\d{1,9}$/.test(p['max_age'])) return fail('invalid_request', 'max_age must be a non-negative integer');
    maxAge = Number(p['max_age']);
  }
  const promptRaw = p['prompt'];
  let prompt: 'none' | 'login' | null = null;
  if (promptRaw !== undefined) {
    const values = promptRaw.split(' ').filter(Boolean);
    if (values.includes('none') && values.length > 1) return fail('invalid_request', 'prompt=none cannot be combined');
    if (values.some((v) => v !== 'none' && v !== 'login' && v !== 'consent' && v !== 'select_account')) return fail('invalid_request', 'unsupported prompt value');
    prompt = values.includes('none') ? 'none' : values.includes('login') || values.includes('select_account') ? 'login' : null;
  }
  const nonce = p['nonce'] ?? null;
  if (nonce !== null && nonce.length > 512) return fail('invalid_request', 'nonce is too long');
  if (state !== null && state.length > 2048) return fail('invalid_request', 'state is too long');
  const tenant = p['tenant'] ?? p['organization'] ?? null;
  return {
    kind: 'ok',
    redirectUri,
    scope: scopes.join(' '),
    state,
    nonce,
    codeChallenge: challenge,
    maxAge,
    prompt,
    tenantDomain: tenant && /^[a-z0-9-]{3,63}$/.test(tenant) ? tenant : null,
    loginHint: p['login_hint']?.slice(0, 254) ?? null,
  };
}

/** The URL the user agent is sent back to, with RFC 9207's `iss` so clients can detect mix-up attacks. */
export function redirectWith(redirectUri: string, params: Record<string, string | null>): string {
  const u = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== null) u.searchParams.set(k, v);
  return u.toString();
}
