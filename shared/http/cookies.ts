/**
 * Cookies of the login UI. The session cookie is HttpOnly and SameSite=Lax: Lax, not Strict, because the
 * relying party sends the browser to /authorize with a top-level cross-site navigation, and single sign-on
 * needs the cookie on that request. The CSRF cookie is Strict: only our own forms post it back.
 */
import { timingSafeEqual } from 'node:crypto';
import { randomSecret } from '../domain/identity/oauth';

export const SESSION_COOKIE = 'cp_session';
export const CSRF_COOKIE = 'cp_csrf';

function attrs(secure: boolean, sameSite: 'Lax' | 'Strict', maxAge: number): string {
  return `Path=/; HttpOnly; SameSite=${sameSite}; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
}

export function isSecureIssuer(issuer: string): boolean {
  return issuer.startsWith('https://');
}

export function sessionCookie(value: string, secure: boolean, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${value}; ${attrs(secure, 'Lax', maxAgeSeconds)}`;
}

export function clearSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; ${attrs(secure, 'Lax', 0)}`;
}

/** Double-submit CSRF token: reuse the browser's if it has one, so several open tabs keep working. */
export function csrfToken(cookies: Readonly<Record<string, string>>, secure: boolean): { token: string; setCookie: string | null } {
  const existing = cookies[CSRF_COOKIE];
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return { token: existing, setCookie: null };
  const token = randomSecret();
  return { token, setCookie: `${CSRF_COOKIE}=${token}; ${attrs(secure, 'Strict', 3600)}` };
}

export function csrfValid(cookies: Readonly<Record<string, string>>, submitted: string | undefined): boolean {
  const c = cookies[CSRF_COOKIE];
  if (!c || !submitted || c.length !== submitted.length) return false;
  return timingSafeEqual(Buffer.from(c), Buffer.from(submitted));
}
