/**
 * How `cpctl login` obtains an operator access token from the operator IdP (FR-SYS-004).
 *
 * - loginWithDeviceCode: RFC 8628, works with any IdP that offers it; the operator approves in a browser.
 * - loginWithPassword: non-interactive auth code + PKCE, only against the local dev IdP
 *   (shared/adapters/local/dev-idp.ts), so that scripts and tests can drive the CLI.
 * - refreshTokens: RFC 6749 refresh.
 *
 * Every error thrown is an OperatorLoginError whose message is one line and never contains a
 * password, a code or a token.
 */
import { randomInt } from 'node:crypto';

import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';

export interface OperatorTokens {
  accessToken: string;
  idToken?: string;
  refreshToken?: string;
  /** epoch seconds */
  expiresAt: number;
  issuer: string;
}

export type OperatorLoginErrorCode =
  | 'invalid_issuer'
  | 'idp_unreachable'
  | 'idp_error'
  | 'unsupported'
  | 'credentials_rejected'
  | 'access_denied'
  | 'expired'
  | 'cancelled'
  | 'wrong_audience'
  | 'unexpected_response';

export class OperatorLoginError extends Error {
  constructor(
    message: string,
    readonly code: OperatorLoginErrorCode,
  ) {
    super(message);
    this.name = 'OperatorLoginError';
  }
}

const BASE_SCOPE = 'openid email profile';
const HTTP_TIMEOUT_SECONDS = 15;
const MAX_REDIRECTS = 10;

/** Non-interactive auth-code + PKCE against the local dev IdP. Refuses any non-loopback issuer. */
export async function loginWithPassword(opts: {
  issuer: string;
  clientId: string;
  audience: string;
  username: string;
  password: string;
}): Promise<OperatorTokens> {
  const issuerUrl = parseIssuer(opts.issuer);
  if (!isLoopbackHost(issuerUrl.hostname)) {
    // Posting a password into an IdP's login form is only acceptable for the dev IdP on this machine;
    // real IdPs get the device flow (MFA, SSO and phishing protection stay with the IdP).
    throw new OperatorLoginError(
      `password login is only for the local dev IdP; ${issuerUrl.origin} is not a loopback address, use the device flow`,
      'invalid_issuer',
    );
  }

  const config = await discover(issuerUrl, opts.clientId);
  const scope = scopeFor(config);

  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  // Any port works for a native client's loopback redirect (RFC 8252 §7.3); a random one mirrors what
  // an interactive login with a local listener does. Nothing listens here: the code is read from the
  // Location header before anything would connect to it.
  const redirectUri = `http://127.0.0.1:${randomInt(49152, 65535)}/callback`;
  const params: Record<string, string> = {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    resource: opts.audience,
  };
  // OpenID Connect only honours offline_access together with prompt=consent.
  if (scope.split(' ').includes('offline_access')) params.prompt = 'consent';
  const authorizationUrl = oidc.buildAuthorizationUrl(config, params);

  const callbackUrl = await driveDevIdpLogin(authorizationUrl, new URL(redirectUri), opts.username, opts.password);

  const error = callbackUrl.searchParams.get('error');
  if (error) {
    throw new OperatorLoginError(
      `the IdP refused the sign-in: ${error}${describe(callbackUrl.searchParams.get('error_description'))}`,
      error === 'access_denied' ? 'access_denied' : 'idp_error',
    );
  }

  let response: TokenResponse;
  try {
    response = await oidc.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: codeVerifier,
      expectedState: state,
      idTokenExpected: scope.split(' ').includes('openid'),
    });
  } catch (err) {
    throw toLoginError(err, 'code exchange');
  }
  return toOperatorTokens(response, config, opts.audience);
}

/** Device authorization grant (RFC 8628): prompt the user, then poll until approved, denied or expired. */
export async function loginWithDeviceCode(opts: {
  issuer: string;
  clientId: string;
  audience: string;
  scope?: string;
  onPrompt: (p: { verificationUri: string; verificationUriComplete?: string; userCode: string; expiresIn: number }) => void;
  signal?: AbortSignal;
}): Promise<OperatorTokens> {
  const config = await discover(parseIssuer(opts.issuer), opts.clientId);
  if (!config.serverMetadata().device_authorization_endpoint) {
    throw new OperatorLoginError(
      'the IdP does not offer the device authorization grant (no device_authorization_endpoint)',
      'unsupported',
    );
  }

  let authorization: Awaited<ReturnType<typeof oidc.initiateDeviceAuthorization>>;
  try {
    authorization = await oidc.initiateDeviceAuthorization(config, {
      scope: opts.scope ?? scopeFor(config),
      resource: opts.audience,
    });
  } catch (err) {
    throw toLoginError(err, 'device authorization request');
  }

  opts.onPrompt({
    verificationUri: authorization.verification_uri,
    ...(authorization.verification_uri_complete
      ? { verificationUriComplete: authorization.verification_uri_complete }
      : {}),
    userCode: authorization.user_code,
    expiresIn: authorization.expires_in,
  });

  // openid-client applies the expires_in deadline only when no signal is given, so combine both.
  const deadline = AbortSignal.timeout(authorization.expires_in * 1000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;

  let response: TokenResponse;
  try {
    response = await oidc.pollDeviceAuthorizationGrant(config, authorization, undefined, { signal });
  } catch (err) {
    if (opts.signal?.aborted) throw new OperatorLoginError('device login cancelled', 'cancelled');
    if (deadline.aborted) {
      throw new OperatorLoginError('device login expired before it was approved; run the login again', 'expired');
    }
    throw toLoginError(err, 'device login');
  }
  return toOperatorTokens(response, config, opts.audience);
}

/** Refresh an operator token. */
export async function refreshTokens(opts: {
  issuer: string;
  clientId: string;
  refreshToken: string;
  audience: string;
}): Promise<OperatorTokens> {
  const config = await discover(parseIssuer(opts.issuer), opts.clientId);
  let response: TokenResponse;
  try {
    // RFC 8707 §2.2: name the resource again so the new access token stays scoped to our API.
    response = await oidc.refreshTokenGrant(config, opts.refreshToken, { resource: opts.audience });
  } catch (err) {
    throw toLoginError(err, 'token refresh');
  }
  const tokens = await toOperatorTokens(response, config, opts.audience);
  // An IdP that does not rotate refresh tokens omits it from the response; the old one stays valid.
  return tokens.refreshToken ? tokens : { ...tokens, refreshToken: opts.refreshToken };
}

// ---------------------------------------------------------------------------------------------

type TokenResponse = Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;

function parseIssuer(issuer: string): URL {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new OperatorLoginError('the issuer is not a valid URL', 'invalid_issuer');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new OperatorLoginError(`the issuer must be an http(s) URL, not ${url.protocol}`, 'invalid_issuer');
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new OperatorLoginError(`refusing plain-http issuer ${url.origin}; only loopback IdPs may use http`, 'invalid_issuer');
  }
  return url;
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

async function discover(issuer: URL, clientId: string): Promise<oidc.Configuration> {
  try {
    return await oidc.discovery(issuer, clientId, undefined, oidc.None(), {
      // parseIssuer only lets http through for loopback hosts, i.e. the dev IdP.
      ...(issuer.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : {}),
      timeout: HTTP_TIMEOUT_SECONDS,
    });
  } catch (err) {
    throw toLoginError(err, `discovery of ${issuer.origin}`);
  }
}

function scopeFor(config: oidc.Configuration): string {
  // Ask for a refresh token only where the IdP advertises offline_access; some reject unknown scopes.
  const supported = config.serverMetadata().scopes_supported;
  return supported?.includes('offline_access') ? `${BASE_SCOPE} offline_access` : BASE_SCOPE;
}

async function toOperatorTokens(
  response: TokenResponse,
  config: oidc.Configuration,
  audience: string,
): Promise<OperatorTokens> {
  const now = Math.floor(Date.now() / 1000);
  const claims = tryDecodeJwt(response.access_token);

  // The CLI is not the token's audience and does not verify it; but an IdP that ignored the resource
  // indicator produces tokens the API will reject, and saying so here saves a confusing 401 later.
  if (claims && claims.aud !== undefined) {
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.includes(audience)) {
      throw new OperatorLoginError(
        `the IdP issued an access token for another audience (expected ${audience}); configure the IdP to honour the resource indicator or set the audience for the cpctl client`,
        'wrong_audience',
      );
    }
  }

  const expiresIn = response.expiresIn();
  // Without expires_in, fall back to the JWT's exp; failing both, assume a short life so cpctl
  // refreshes early instead of presenting a dead token.
  const expiresAt = expiresIn !== undefined ? now + expiresIn : (claims?.exp ?? now + 300);

  return {
    accessToken: response.access_token,
    ...(response.id_token ? { idToken: response.id_token } : {}),
    ...(response.refresh_token ? { refreshToken: response.refresh_token } : {}),
    expiresAt,
    issuer: config.serverMetadata().issuer,
  };
}

function tryDecodeJwt(token: string): ReturnType<typeof decodeJwt> | undefined {
  try {
    return decodeJwt(token);
  } catch {
    return undefined; // opaque access token: nothing to inspect
  }
}

function describe(description: string | null | undefined): string {
  if (!description) return '';
  // IdP-provided text: keep it to one short line.
  return ` (${description.replace(/[\r\n]+/g, ' ').slice(0, 200)})`;
}

/** Map any failure to a one-line OperatorLoginError. Deliberately drops `cause`: it can carry request bodies. */
function toLoginError(err: unknown, during: string): OperatorLoginError {
  if (err instanceof OperatorLoginError) return err;
  if (err instanceof oidc.ResponseBodyError) {
    const code: OperatorLoginErrorCode =
      err.error === 'access_denied'
        ? 'access_denied'
        : err.error === 'expired_token'
          ? 'expired'
          : err.error === 'invalid_grant' && during === 'token refresh'
            ? 'expired'
            : 'idp_error';
    return new OperatorLoginError(`${during} failed: ${err.error}${describe(err.error_description)}`, code);
  }
  if (err instanceof oidc.AuthorizationResponseError) {
    return new OperatorLoginError(
      `${during} failed: ${err.error}${describe(err.error_description)}`,
      err.error === 'access_denied' ? 'access_denied' : 'idp_error',
    );
  }
  if (err instanceof oidc.ClientError) {
    return new OperatorLoginError(`${during} failed: ${err.message}${err.code ? ` [${err.code}]` : ''}`, 'unexpected_response');
  }
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return new OperatorLoginError(`${during} timed out`, 'idp_unreachable');
  }
  if (err instanceof TypeError) {
    // fetch() reports network failures as TypeError('fetch failed') with the errno on the cause.
    const cause = (err as { cause?: { code?: unknown } }).cause;
    const detail = typeof cause?.code === 'string' ? cause.code : err.message;
    return new OperatorLoginError(`${during} failed: IdP not reachable (${detail})`, 'idp_unreachable');
  }
  return new OperatorLoginError(`${during} failed: ${err instanceof Error ? err.message : 'unknown error'}`, 'unexpected_response');
}

// ---------------------------------------------------------------------------------------------
// Driving the dev IdP's login pages without a browser.

/**
 * Follows the authorization request through the dev IdP: redirects, its login form, automatic
 * consent, until the IdP redirects to our loopback redirect URI. Returns that final URL (which
 * carries `code` and `state`, or `error`). Requests only ever go to the issuer's origin.
 */
async function driveDevIdpLogin(start: URL, redirectUri: URL, username: string, password: string): Promise<URL> {
  const jar = new CookieJar();
  let url = start;
  let init: { method: 'GET' | 'POST'; body?: URLSearchParams } = { method: 'GET' };
  let submittedLogin = false;

  for (let hop = 0; hop < MAX_REDIRECTS + 2; hop++) {
    if (url.origin !== start.origin) {
      throw new OperatorLoginError(`the IdP redirected to an unexpected origin ${url.origin}`, 'unexpected_response');
    }
    let res: Response;
    try {
      res = await fetch(url, {
        method: init.method,
        redirect: 'manual',
        headers: {
          ...(jar.header() ? { cookie: jar.header() } : {}),
          ...(init.body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          accept: 'text/html',
        },
        ...(init.body ? { body: init.body } : {}),
        signal: AbortSignal.timeout(HTTP_TIMEOUT_SECONDS * 1000),
      });
    } catch (err) {
      throw toLoginError(err, 'sign-in');
    }
    jar.store(res.headers.getSetCookie());

    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      const next = new URL(location, url);
      if (next.origin === redirectUri.origin && next.pathname === redirectUri.pathname) return next;
      url = next;
      init = { method: 'GET' };
      continue;
    }

    const html = await res.text();
    if (submittedLogin) {
      // A successful login always redirects; a page after the form means it was not accepted.
      if (res.status === 401 || hasPasswordForm(html)) {
        throw new OperatorLoginError('the dev IdP rejected the email or password', 'credentials_rejected');
      }
      throw new OperatorLoginError(`unexpected HTTP ${res.status} from the IdP after signing in`, 'unexpected_response');
    }
    const form = res.ok ? findPasswordForm(html, url) : undefined;
    if (!form) {
      throw new OperatorLoginError(
        `unexpected HTTP ${res.status} from the IdP during sign-in (is ${start.origin} the local dev IdP?)`,
        'unexpected_response',
      );
    }
    form.fields.set('email', username);
    form.fields.set('password', password);
    url = form.action;
    init = { method: 'POST', body: form.fields };
    submittedLogin = true;
  }
  throw new OperatorLoginError('too many redirects during sign-in', 'unexpected_response');
}

function hasPasswordForm(html: string): boolean {
  return /<input\b[^>]*\btype\s*=\s*["']?password/i.test(html);
}

/** The dev IdP's login form: its action and hidden fields (so an added CSRF field keeps working). */
function findPasswordForm(html: string, base: URL): { action: URL; fields: URLSearchParams } | undefined {
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const [, attrs = '', inner = ''] = match;
    if (!hasPasswordForm(inner)) continue;
    const action = new URL(decodeEntities(attr(attrs, 'action') ?? ''), base);
    const fields = new URLSearchParams();
    for (const input of inner.matchAll(/<input\b([^>]*)>/gi)) {
      const inputAttrs = input[1] ?? '';
      const name = attr(inputAttrs, 'name');
      if (name && attr(inputAttrs, 'type')?.toLowerCase() === 'hidden') {
        fields.set(decodeEntities(name), decodeEntities(attr(inputAttrs, 'value') ?? ''));
      }
    }
    return { action, fields };
  }
  return undefined;
}

function attr(attrs: string, name: string): string | undefined {
  const m = new RegExp(`\\b${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(attrs);
  return m ? (m[1] ?? m[2] ?? m[3]) : undefined;
}

function decodeEntities(value: string): string {
  return value
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

/** Enough of a cookie jar for one origin: names and values, deletions honoured, attributes ignored. */
class CookieJar {
  readonly #cookies = new Map<string, string>();

  store(setCookieHeaders: string[]): void {
    for (const header of setCookieHeaders) {
      const [pair = '', ...attributes] = header.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => {
        const [k = '', v = ''] = a.split('=').map((s) => s.trim());
        if (k.toLowerCase() === 'max-age') return Number(v) <= 0;
        if (k.toLowerCase() === 'expires') return Date.parse(v) <= Date.now();
        return false;
      });
      if (expired || value === '') this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}
