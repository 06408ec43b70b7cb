import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { translateDynamoError, type NamedCondition } from './errors';

/** Attempts of a transaction that DynamoDB cancels only for TransactionConflict. */
const TRANSACTION_ATTEMPTS = 4;

/**
 * TransactWriteItems, retried when DynamoDB cancels it for a TransactionConflict alone (another
 * transaction on one of its items was in flight; both can be cancelled, and the SDK does not retry a
 * cancellation). A retry then either commits or fails its condition because the other one committed, so
 * a conflict ends as one winner plus ConflictErrors rather than as nobody winning. Errors are translated
 * with `conditions`, one per item, as translateDynamoError does.
 */
export async function transactWrite(db: DynamoDBDocumentClient, items: NonNullable<TransactWriteCommandInput['TransactItems']>, conditions: readonly (NamedCondition | undefined)[] = []): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await db.send(new TransactWriteCommand({ TransactItems: items }));
      return;
    } catch (err) {
      const reasons = err instanceof TransactionCanceledException ? (err.CancellationReasons ?? []) : [];
      const onlyConflict = reasons.some((r) => r.Code === 'TransactionConflict') && !reasons.some((r) => r.Code === 'ConditionalCheckFailed');
      if (!onlyConflict || attempt >= TRANSACTION_ATTEMPTS) throw translateDynamoError(err, conditions);
    }
    await new Promise((r) => setTimeout(r, 10 * attempt + Math.random() * 40));
  }
}
