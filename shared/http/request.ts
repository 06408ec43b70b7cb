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

const states = new WeakMap<APIGatewayProxyEvent, RequestState>();

export function setState(event: APIGatewayProxyEvent, state: RequestState): void {
  states.set(event, state);
}

export function getState(event: APIGatewayProxyEvent): RequestState {
  const s = states.get(event);
  if (!s) throw new Error('request state missing: the request middleware must run first');
  return s;
}

const lowerCased = new WeakMap<object, Map<string, string>>();

/**
 * Header lookup that ignores case, as HTTP does (API Gateway keeps the client's casing). A request asks
 * for several headers: the lower-cased view is built once per headers object, not once per lookup.
 */
export function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const headers = event.headers;
  if (!headers) return undefined;
  let view = lowerCased.get(headers);
  if (!view) {
    view = new Map();
    for (const k of Object.keys(headers)) {
      const v = headers[k];
      const lk = k.toLowerCase();
      // The first of two spellings wins, as the linear search did.
      if (v !== undefined && !view.has(lk)) view.set(lk, v);
    }
    lowerCased.set(headers, view);
  }
  return view.get(name.toLowerCase());
}
