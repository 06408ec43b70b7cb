import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { AppError, ConflictError, InternalError, UnavailableError, type FieldIssue } from '../../domain/errors';

/** A write in a transaction whose condition, when it fails, means a named conflict. */
export interface NamedCondition {
  readonly name: string;
  readonly detail: string;
  readonly issue?: FieldIssue;
}

const THROTTLED = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded', 'ServiceUnavailable', 'InternalServerError']);

/**
 * Translate SDK errors into domain errors, so handlers never see an SDK exception. `conditions[i]` names
 * the condition of the transaction's i-th item (undefined where the item has none).
 */
export function translateDynamoError(err: unknown, conditions: readonly (NamedCondition | undefined)[] = []): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof TransactionCanceledException) {
    const reasons = err.CancellationReasons ?? [];
    const failed = reasons
      .map((r, i) => (r.Code === 'ConditionalCheckFailed' ? conditions[i] : undefined))
      .filter((c): c is NamedCondition => c !== undefined);
    const first = failed[0];
    if (first !== undefined) {
      return new ConflictError(first.detail, failed.flatMap((c) => (c.issue ? [c.issue] : [])));
    }
    if (reasons.some((r) => r.Code === 'TransactionConflict')) {
      return new ConflictError('A concurrent change conflicted with this request; retry it.');
    }
    return new InternalError(`transaction cancelled: ${reasons.map((r) => r.Code ?? 'None').join(',')}`, err);
  }
  if (err instanceof ConditionalCheckFailedException) {
    const only = conditions.find((c) => c !== undefined);
    return new ConflictError(only?.detail ?? 'The resource changed or already exists.', only?.issue ? [only.issue] : []);
  }
  const name = err instanceof Error ? err.name : 'unknown';
  if (THROTTLED.has(name)) return new UnavailableError(`dynamodb ${name}`, err);
  return new InternalError(`dynamodb error ${name}`, err);
}
