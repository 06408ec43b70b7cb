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

/** Header lookup that ignores case, as HTTP does (API Gateway keeps the client's casing). */
export function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(event.headers ?? {})) if (k.toLowerCase() === wanted && v !== undefined) return v;
  return undefined;
}
