import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { RequestOrigin } from '../domain/audit';
import type { Principal } from '../domain/principal';
import type { Logger } from './logger';

/** What the middleware stack learns about a request, shared between middlewares and the handler. */
export interface RequestState {
  readonly requestId: string;
  readonly origin: RequestOrigin;
  readonly startedAt: number;
  readonly method: string;
  readonly path: string;
  log: Logger;
  principal?: Principal;
  body?: unknown;
  query?: unknown;
  params?: unknown;
}

/**
 * The state and the lower-cased header view hang off the event under symbol keys, not in WeakMaps: a
 * WeakMap entry per request is an ephemeron the garbage collector must trace specially, which showed in
 * the cached flag read's profile (issue #5). Symbols stay out of JSON.stringify and Object.keys, and the
 * properties are non-enumerable so a spread copy of the event does not carry them.
 */
const STATE = Symbol('requestState');
const LOWER = Symbol('lowerCasedHeaders');
type WithState = { [STATE]?: RequestState };
type WithLower = { [LOWER]?: Map<string, string> };

export function setState(event: APIGatewayProxyEvent, state: RequestState): void {
  Object.defineProperty(event, STATE, { value: state, writable: true, configurable: true, enumerable: false });
}

export function getState(event: APIGatewayProxyEvent): RequestState {
  const s = (event as WithState)[STATE];
  if (!s) throw new Error('request state missing: the request middleware must run first');
  return s;
}

/**
 * Header lookup that ignores case, as HTTP does (API Gateway keeps the client's casing). A request asks
 * for several headers: the lower-cased view is built once per headers object, not once per lookup.
 */
export function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const headers = event.headers;
  if (!headers) return undefined;
  let view = (headers as WithLower)[LOWER];
  if (!view) {
    view = new Map();
    for (const k of Object.keys(headers)) {
      const v = headers[k];
      const lk = k.toLowerCase();
      // The first of two spellings wins, as the linear search did.
      if (v !== undefined && !view.has(lk)) view.set(lk, v);
    }
    // A frozen headers object (a test fixture) cannot carry the view; it is then rebuilt per lookup.
    if (Object.isExtensible(headers)) Object.defineProperty(headers, LOWER, { value: view, configurable: true, enumerable: false });
  }
  return view.get(name.toLowerCase());
}
