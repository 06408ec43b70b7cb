/**
 * Handlers for the OpenID provider's endpoints. Same middleware core as the JSON API (request id, logs,
 * security headers), but forms instead of JSON bodies, cookies, redirects and HTML, and errors rendered
 * the way OAuth clients and browsers expect: RFC 6749 §5.2 JSON, or an HTML error page.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { container as defaultContainer, type Container } from '../composition';
import { ANONYMOUS, type RequestOrigin } from '../domain/audit';
import { isAppError } from '../domain/errors';
import { BearerError, OAuthError } from '../domain/identity/oauth';
import { writeAudit } from './audit';
import { clientCredentials } from './client-auth';
import type { Logger } from './logger';
import { requestContext, type ErrorRenderer } from './middleware/request-context';
import { getState, header } from './request';
import { errorPage } from './ui/pages';

const MAX_FORM_BYTES = 16 * 1024;

export interface WebRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** application/x-www-form-urlencoded body fields (POST); empty otherwise. */
  readonly form: Readonly<Record<string, string>>;
  readonly cookies: Readonly<Record<string, string>>;
  readonly header: (name: string) => string | undefined;
  readonly origin: RequestOrigin;
  readonly deps: Container;
  readonly log: Logger;
}

export interface WebResult {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly cookies?: readonly string[];
  /** A string is sent as is (HTML); anything else as JSON. */
  readonly body?: unknown;
}

export type WebKind = 'oauth' | 'html';

/** Audit events a web handler wants written (logins, logouts, revocations, reuse detection). */
export interface WebAudit {
  readonly action: string;
  readonly outcome: 'Success' | 'Failure';
  readonly tenantId: string | null;
  readonly resource: string;
  readonly actor?: { id: string; type: 'User' | 'System' | 'Anonymous' };
  readonly details?: Record<string, unknown>;
}

function parseParams(raw: string, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    // RFC 6749 §3.1: request and response parameters MUST NOT be included more than once.
    if (Object.hasOwn(out, k)) throw new OAuthError('invalid_request', `Parameter ${k} is repeated in the ${where}.`);
    out[k] = v;
  }
  return out;
}

function rawBody(event: APIGatewayProxyEvent): string {
  return event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
}

function parseCookies(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (raw ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const name = part.slice(0, i).trim();
    if (!Object.hasOwn(out, name)) out[name] = part.slice(i + 1).trim();
  }
  return out;
}

/** RFC 6750 §3: the challenge of a protected resource; with no token sent, no error information (§3.1). */
function bearerChallenge(err: BearerError): string {
  if (err.options.withoutErrorInfo) return 'Bearer';
  return `Bearer error="${err.error}"${err.options.scope ? `, scope="${err.options.scope}"` : ''}`;
}

const oauthRenderer: ErrorRenderer = (err, requestId) => {
  // Every answer of these endpoints is kept out of caches, errors included (RFC 6749 §5.1, RFC 6750 §5.3).
  const noStore = { 'cache-control': 'no-store', pragma: 'no-cache' };
  if (err instanceof BearerError && err.options.withoutErrorInfo) {
    return { response: { statusCode: err.status, headers: { ...noStore, 'www-authenticate': bearerChallenge(err) }, body: '' }, status: err.status, code: err.error, reason: err.reason };
  }
  if (err instanceof OAuthError) {
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', ...noStore };
    if (err instanceof BearerError) headers['www-authenticate'] = bearerChallenge(err);
    else if (err.status === 401) headers['www-authenticate'] = err.error === 'invalid_token' ? `Bearer error="invalid_token"` : 'Basic realm="token"';
    return { response: { statusCode: err.status, headers, body: JSON.stringify({ error: err.error, error_description: err.description }) }, status: err.status, code: err.error, reason: err.reason };
  }
  const status = isAppError(err) ? err.status : 500;
  const error = status === 429 ? 'temporarily_unavailable' : status === 503 ? 'temporarily_unavailable' : status < 500 ? 'invalid_request' : 'server_error';
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', ...(isAppError(err) ? err.headers : {}), ...noStore };
  const description = isAppError(err) && err.expose ? (err.detail ?? err.title) : 'The server could not complete the request.';
  return { response: { statusCode: status, headers, body: JSON.stringify({ error, error_description: description, request_id: requestId }) }, status, code: error, reason: isAppError(err) ? err.reason : 'internal error' };
};

const htmlRenderer: ErrorRenderer = (err, requestId) => {
  const status = err instanceof OAuthError ? (err.status === 401 ? 400 : err.status) : isAppError(err) ? err.status : 500;
  const message = err instanceof OAuthError ? err.description : isAppError(err) && err.expose ? (err.detail ?? err.title) : 'Something went wrong on our side. Please try again.';
  const page = errorPage({ title: status >= 500 ? 'Sign-in is unavailable' : 'We could not continue', message, requestId });
  const headers: Record<string, string> = { ...page.headers, ...(isAppError(err) ? err.headers : {}) };
  return { response: { statusCode: status, headers, body: page.body }, status, code: err instanceof OAuthError ? err.error : isAppError(err) ? err.code : 'ERR-SYS-500', reason: err instanceof OAuthError ? err.reason : isAppError(err) ? err.reason : 'internal error' };
};

/** The audit record of a refused OAuth request: the claimed client (or the endpoint), the error, the reason. */
function denial(action: string, req: WebRequest, err: OAuthError): WebAudit {
  let clientId: string | undefined;
  try {
    clientId = clientCredentials(req.header('authorization'), req.form).clientId;
  } catch {
    clientId = req.form['client_id'];
  }
  const grantType = req.form['grant_type'];
  return {
    action,
    outcome: 'Failure',
    tenantId: null,
    resource: clientId !== undefined ? `client:${clientId.slice(0, 64)}` : `endpoint:${req.path}`,
    details: { error: err.error, reason: err.reason ?? err.description, ...(grantType !== undefined ? { grantType: grantType.slice(0, 64) } : {}) },
  };
}

export interface WebHandlerSpec {
  readonly kind: WebKind;
  readonly handle: (req: WebRequest, audit: (a: WebAudit) => Promise<void>) => Promise<WebResult>;
  /**
   * CORS for browser apps (single-page apps with a public client). `any-origin`: every origin may read
   * the response (discovery, JWKS; userinfo, which reads a bearer token and no cookie). `client-origins`:
   * an Origin may read it only when it is the origin of a redirect URI registered for the client the
   * request names, as Keycloak's "+" web origins do; a page elsewhere gets no Access-Control-Allow-Origin.
   */
  readonly cors?: 'any-origin' | 'client-origins';
  /**
   * FR-LOG-003, every denial is recorded: an OAuth error thrown by `handle` is written as a Failure of
   * this action, naming the client the request claimed to be (not authenticated: it may be a stranger).
   */
  readonly deniedAction?: string;
  readonly container?: () => Container;
}

export function defineWebHandler(spec: WebHandlerSpec) {
  const deps = spec.container ?? defaultContainer;
  const core = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const s = getState(event);
    const c = deps();
    const raw = rawBody(event);
    let form: Record<string, string> = {};
    if (event.httpMethod === 'POST' && raw.length > 0) {
      if (Buffer.byteLength(raw) > MAX_FORM_BYTES) throw new OAuthError('invalid_request', 'The request body is too large.');
      const type = header(event, 'content-type') ?? '';
      if (!/^application\/x-www-form-urlencoded\b/i.test(type)) throw new OAuthError('invalid_request', 'The body must be application/x-www-form-urlencoded.');
      form = parseParams(raw, 'body');
    }
    const pairs = Object.entries(event.multiValueQueryStringParameters ?? {}).flatMap(([k, vs]) => (vs ?? []).map((v): [string, string] => [k, v]));
    const query = parseParams(new URLSearchParams(pairs).toString(), 'query');
    const req: WebRequest = {
      method: event.httpMethod,
      path: s.path,
      query,
      form,
      cookies: parseCookies(header(event, 'cookie')),
      header: (name) => header(event, name),
      origin: s.origin,
      deps: c,
      log: s.log,
    };
    const audit = (a: WebAudit): Promise<void> =>
      writeAudit(c, s.log, {
        actor: a.actor ? { ...a.actor, tenantId: a.tenantId } : ANONYMOUS,
        action: a.action,
        resource: a.resource,
        outcome: a.outcome,
        tenantId: a.tenantId,
        origin: s.origin,
        ...(a.details ? { details: a.details } : {}),
      });
    let result: WebResult;
    try {
      result = await spec.handle(req, audit);
    } catch (err) {
      if (spec.deniedAction !== undefined && err instanceof OAuthError) await audit(denial(spec.deniedAction, req, err));
      throw err;
    }
    const isText = typeof result.body === 'string';
    const headers: Record<string, string> = {
      'cache-control': 'no-store',
      pragma: 'no-cache',
      ...(result.body === undefined ? {} : { 'content-type': isText ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8' }),
      ...result.headers,
    };
    return {
      statusCode: result.status,
      headers,
      ...(result.cookies && result.cookies.length > 0 ? { multiValueHeaders: { 'set-cookie': [...result.cookies] } } : {}),
      body: result.body === undefined ? '' : isText ? (result.body as string) : JSON.stringify(result.body),
    };
  };
  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>()
    .use(requestContext(() => deps().log, spec.kind === 'oauth' ? oauthRenderer : htmlRenderer))
    .handler(core);
  const cors = spec.cors;
  if (cors === undefined) return handler;
  // After everything else, errors included: a browser app must be able to read an OAuth error too.
  return async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
    const res = await handler(event, context);
    if (cors === 'any-origin') return { ...res, headers: { ...res.headers, 'access-control-allow-origin': '*' } };
    const origin = header(event, 'origin');
    // No Origin: not a cross-origin browser request (a backend, or a same-origin page); nothing to add.
    if (origin === undefined) return res;
    const headers: Record<string, string | number | boolean> = { ...res.headers, vary: 'Origin' };
    if (await clientServesOrigin(event, origin, deps)) headers['access-control-allow-origin'] = origin;
    return { ...res, headers };
  };
}

/** Whether `origin` is the origin of one of the redirect URIs of the client the request names. */
async function clientServesOrigin(event: APIGatewayProxyEvent, origin: string, deps: () => Container): Promise<boolean> {
  let clientId: string | undefined;
  try {
    const raw = rawBody(event);
    clientId = clientCredentials(header(event, 'authorization'), Buffer.byteLength(raw) <= MAX_FORM_BYTES ? parseParams(raw, 'body') : {}).clientId;
  } catch {
    return false;
  }
  if (clientId === undefined) return false;
  // The token path's cached read (ADR-0010): a browser's token request costs no extra table request.
  const app = await deps().identity.store.getAppForGrant(clientId);
  return app?.redirectUris.some((uri) => URL.canParse(uri) && new URL(uri).origin === origin) ?? false;
}
