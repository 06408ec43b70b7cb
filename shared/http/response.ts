import type { APIGatewayProxyResult } from 'aws-lambda';
import type { AppError } from '../domain/errors';

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=63072000; includeSubDomains',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
};

export const PROBLEM_TYPE_BASE = 'urn:saas-control-plane:problem:';

export function json(status: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: body === undefined ? '' : JSON.stringify(body),
  };
}

/** RFC 9457 problem details. 5xx carry only the generic title (CON-SEC-009). */
export function problem(err: AppError, requestId: string, instance: string): APIGatewayProxyResult {
  const body: Record<string, unknown> = {
    type: `${PROBLEM_TYPE_BASE}${err.code}`,
    title: err.title,
    status: err.status,
    code: err.code,
    instance,
    requestId,
  };
  if (err.expose && err.detail) body['detail'] = err.detail;
  if (err.expose && err.issues.length > 0) body['errors'] = err.issues;
  return {
    statusCode: err.status,
    headers: { 'content-type': 'application/problem+json; charset=utf-8', ...err.headers },
    body: JSON.stringify(body),
  };
}
