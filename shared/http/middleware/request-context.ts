import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { isAppError, InternalError, type AppError } from '../../domain/errors';
import { errorFields, type Logger } from '../logger';
import { getState, header, setState } from '../request';
import { problem, SECURITY_HEADERS } from '../response';

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/**
 * Outermost middleware: request id, origin, one access log line per request, security headers on every
 * response, and the only place an error becomes a response (RFC 9457; 5xx generic, CON-SEC-009).
 */
export type ErrorRenderer = (err: unknown, requestId: string, path: string) => { response: APIGatewayProxyResult; status: number; code: string; reason: string | undefined };

/** The API's renderer: every error as RFC 9457 problem+json. OAuth endpoints pass their own. */
export const renderProblem: ErrorRenderer = (error, requestId, path) => {
  const err: AppError = isAppError(error) ? error : new InternalError('unhandled error', error);
  return { response: problem(err, requestId, path), status: err.status, code: err.code, reason: err.reason };
};

export function requestContext(log: () => Logger, render: ErrorRenderer = renderProblem): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context> {
  return {
    before: (request) => {
      const e = request.event;
      const clientId = header(e, 'x-request-id');
      const requestId = clientId !== undefined && CLIENT_REQUEST_ID.test(clientId) ? clientId : e.requestContext?.requestId || randomUUID();
      setState(e, {
        requestId,
        origin: { requestId, ip: e.requestContext?.identity?.sourceIp ?? 'unknown', userAgent: header(e, 'user-agent') },
        startedAt: Date.now(),
        method: e.httpMethod,
        path: e.path,
        log: log().child({ requestId, method: e.httpMethod, path: e.resource ?? e.path }),
      });
    },
    after: (request) => {
      const s = getState(request.event);
      const res = request.response;
      if (!res) return;
      res.headers = { ...SECURITY_HEADERS, ...res.headers, 'x-request-id': s.requestId };
      s.log.info('request', { status: res.statusCode, ms: Date.now() - s.startedAt, actor: s.principal?.actor.id });
    },
    onError: (request) => {
      const s = getState(request.event);
      const { response: res, status, code, reason } = render(request.error, s.requestId, s.path);
      if (status >= 500) s.log.error('request failed', { status, code, ...errorFields(request.error) });
      else s.log.info('request', { status, code, reason, ms: Date.now() - s.startedAt, actor: s.principal?.actor.id });
      res.headers = { ...SECURITY_HEADERS, ...res.headers, 'x-request-id': s.requestId };
      request.response = res;
    },
  };
}
