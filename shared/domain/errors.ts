/**
 * One error family for the whole control plane. Each class carries a stable spec ERR-* code, the HTTP
 * status it maps to, and whether its message is safe to show (CON-SEC-009). The HTTP layer renders these
 * as RFC 9457 problem+json; nothing else decides what a client sees.
 */
export type ErrorCode =
  | 'ERR-AUTH-401'
  | 'ERR-AUTH-403'
  | 'ERR-AUTH-440'
  | 'ERR-AUTH-461'
  | 'ERR-VAL-400'
  | 'ERR-VAL-409'
  | 'ERR-VAL-422'
  | 'ERR-RES-404'
  | 'ERR-RES-410'
  | 'ERR-RATE-429'
  | 'ERR-SYS-500'
  | 'ERR-SYS-503';

/** A field-level problem: `pointer` is a JSON Pointer (RFC 6901) into the request part it names. */
export interface FieldIssue {
  readonly location: 'body' | 'query' | 'path' | 'header';
  readonly pointer: string;
  readonly detail: string;
}

const TITLES: Record<ErrorCode, { status: number; title: string }> = {
  'ERR-AUTH-401': { status: 401, title: 'Invalid credentials' },
  'ERR-AUTH-403': { status: 403, title: 'Access denied' },
  'ERR-AUTH-440': { status: 440, title: 'Session expired' },
  'ERR-AUTH-461': { status: 461, title: 'Multi-factor authentication required' },
  'ERR-VAL-400': { status: 400, title: 'Invalid input' },
  'ERR-VAL-409': { status: 409, title: 'Conflict' },
  'ERR-VAL-422': { status: 422, title: 'Business rule violation' },
  'ERR-RES-404': { status: 404, title: 'Resource not found' },
  'ERR-RES-410': { status: 410, title: 'Resource gone' },
  'ERR-RATE-429': { status: 429, title: 'Rate limit exceeded' },
  'ERR-SYS-500': { status: 500, title: 'Internal error' },
  'ERR-SYS-503': { status: 503, title: 'Service unavailable' },
};

export function errorStatus(code: ErrorCode): number {
  return TITLES[code].status;
}
export function errorTitle(code: ErrorCode): string {
  return TITLES[code].title;
}

export interface AppErrorOptions {
  /** Extra detail for the client; must never contain internals. */
  readonly detail?: string;
  readonly issues?: readonly FieldIssue[];
  /** Why access was denied / what failed, for the audit record (not always shown). */
  readonly reason?: string;
  readonly cause?: unknown;
  readonly headers?: Record<string, string>;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  readonly detail: string | undefined;
  readonly issues: readonly FieldIssue[];
  readonly reason: string | undefined;
  readonly headers: Record<string, string>;
  /** 5xx details are never shown: the message may carry internal context meant for logs only. */
  readonly expose: boolean;

  constructor(code: ErrorCode, options: AppErrorOptions = {}) {
    super(options.detail ?? TITLES[code].title, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = TITLES[code].status;
    this.title = TITLES[code].title;
    this.expose = this.status < 500;
    this.detail = this.expose ? options.detail : undefined;
    this.issues = options.issues ?? [];
    this.reason = options.reason;
    this.headers = options.headers ?? {};
  }
}

export class AuthenticationError extends AppError {
  constructor(reason: string) {
    // One public detail for every cause: which check failed is for the audit log, not the caller.
    super('ERR-AUTH-401', { detail: 'The request lacks valid credentials.', reason, headers: { 'www-authenticate': 'Bearer' } });
  }
}
export class ForbiddenError extends AppError {
  constructor(detail: string, reason?: string) {
    super('ERR-AUTH-403', { detail, reason: reason ?? detail });
  }
}
export class ValidationError extends AppError {
  constructor(detail: string, issues: readonly FieldIssue[] = []) {
    super('ERR-VAL-400', { detail, issues, reason: detail });
  }
}
export class ConflictError extends AppError {
  constructor(detail: string, issues: readonly FieldIssue[] = []) {
    super('ERR-VAL-409', { detail, issues, reason: detail });
  }
}
export class BusinessRuleError extends AppError {
  constructor(detail: string, issues: readonly FieldIssue[] = []) {
    super('ERR-VAL-422', { detail, issues, reason: detail });
  }
}
export class NotFoundError extends AppError {
  constructor(detail = 'The requested resource does not exist.') {
    super('ERR-RES-404', { detail, reason: detail });
  }
}
export class GoneError extends AppError {
  constructor(detail = 'The resource has been permanently deleted.') {
    super('ERR-RES-410', { detail, reason: detail });
  }
}
export class RateLimitError extends AppError {
  constructor(retryAfterSeconds: number) {
    super('ERR-RATE-429', {
      detail: 'Too many requests. Retry later.',
      headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
      reason: 'rate limited',
    });
  }
}
export class InternalError extends AppError {
  constructor(internalMessage: string, cause?: unknown) {
    super('ERR-SYS-500', { detail: internalMessage, cause, reason: 'internal error' });
  }
}
export class UnavailableError extends AppError {
  constructor(internalMessage: string, cause?: unknown) {
    super('ERR-SYS-503', { detail: internalMessage, cause, reason: 'unavailable', headers: { 'retry-after': '5' } });
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
