/**
 * OpenFeature Remote Evaluation Protocol (OFREP v0.3) wire rules, so that any OpenFeature SDK with an
 * OFREP provider works against us unchanged: 401/403 without a body, 429 with Retry-After, evaluation
 * errors as `{ key?, errorCode, errorDetails }`.
 */
import { z } from 'zod';
import { isAppError } from '../domain/errors';
import type { DeliveredFlag } from '../domain/delivery-ports';
import type { ErrorRenderer } from './middleware/request-context';

export type OfrepErrorCode = 'PARSE_ERROR' | 'TARGETING_KEY_MISSING' | 'INVALID_CONTEXT' | 'FLAG_NOT_FOUND' | 'GENERAL';

/** An evaluation-level error: status 400 (or 404 for FLAG_NOT_FOUND) with an OFREP error body. */
export class OfrepError extends Error {
  constructor(
    readonly errorCode: OfrepErrorCode,
    readonly errorDetails: string,
    readonly status = errorCode === 'FLAG_NOT_FOUND' ? 404 : 400,
  ) {
    super(errorDetails);
    this.name = 'OfrepError';
  }
}

export const ofrepRequest = z.object({ context: z.record(z.string(), z.unknown()).optional() }).loose();

/**
 * The tenant is the subject of tenant-level flags: it comes from the context's `tenantId` attribute, or
 * from `targetingKey` when the application targets by tenant (documented in doc/flags.md).
 */
export function tenantFromContext(context: Record<string, unknown> | undefined): string {
  const raw = context?.['tenantId'] ?? context?.['targetingKey'];
  if (raw === undefined || raw === null || raw === '') throw new OfrepError('TARGETING_KEY_MISSING', 'Set the tenantId attribute (or targetingKey) of the evaluation context to the tenant id.');
  if (typeof raw !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(raw)) {
    throw new OfrepError('INVALID_CONTEXT', 'tenantId must be a tenant id (UUID).');
  }
  return raw.toLowerCase();
}

export function evaluation(flag: DeliveredFlag): Record<string, unknown> {
  // STATIC: the value depends on the tenant only, so providers may cache it (OFREP reason semantics).
  return { key: flag.key, value: flag.value, reason: 'STATIC', variant: flag.source, metadata: { source: flag.source, type: flag.type } };
}

/** Renders every error the OFREP way; `key` is echoed for single-flag evaluation. */
export function ofrepRenderer(keyOf: (path: string) => string | undefined): ErrorRenderer {
  return (err, requestId, path) => {
    const key = keyOf(path);
    const json = (status: number, body: Record<string, unknown>) => ({
      response: { statusCode: status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }, body: JSON.stringify(body) },
      status,
      code: String(body['errorCode']),
      reason: String(body['errorDetails']),
    });
    if (err instanceof OfrepError) return json(err.status, { ...(key ? { key } : {}), errorCode: err.errorCode, errorDetails: err.errorDetails });
    const status = isAppError(err) ? err.status : 500;
    if (status === 401 || status === 403 || status === 410 || status === 429) {
      // No body: OFREP providers act on the status alone (401/403 fatal, 429 retry after the header).
      return { response: { statusCode: status, headers: { ...(isAppError(err) ? err.headers : {}), 'cache-control': 'no-store' }, body: '' }, status, code: isAppError(err) ? err.code : 'ERR', reason: isAppError(err) ? err.reason : undefined };
    }
    if (status === 400) return json(400, { ...(key ? { key } : {}), errorCode: 'PARSE_ERROR', errorDetails: isAppError(err) && err.detail ? err.detail : 'The request is not valid.' });
    return json(status >= 500 ? 500 : status, { ...(key ? { key } : {}), errorCode: 'GENERAL', errorDetails: `Evaluation failed (request ${requestId}).` });
  };
}
