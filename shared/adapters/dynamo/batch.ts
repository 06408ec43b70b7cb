import { BatchWriteCommand, QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { InternalError } from '../../domain/errors';
import type { ItemKey } from './keys';

const BATCH_LIMIT = 25;
const MAX_ATTEMPTS = 8;

/**
 * Deletes the given items in BatchWriteItem calls of 25. DynamoDB may hand back unprocessed items under
 * load: they are retried with backoff, never dropped; after the last attempt the call fails (the purge
 * and the erasure are resumable, so the next run finishes the job). Returns how many keys it deleted.
 */
export async function deleteAll(db: DynamoDBDocumentClient, table: string, itemKeys: readonly ItemKey[]): Promise<number> {
  for (let i = 0; i < itemKeys.length; i += BATCH_LIMIT) {
    let pending: { DeleteRequest: { Key: Record<string, unknown> } }[] = itemKeys.slice(i, i + BATCH_LIMIT).map((k) => ({ DeleteRequest: { Key: { PK: k.PK, SK: k.SK } } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= MAX_ATTEMPTS) throw new InternalError(`batch delete left ${pending.length} items unprocessed`);
      if (attempt > 0) await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
      const out = await db.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = (out.UnprocessedItems?.[table] ?? []).flatMap((r) => (r.DeleteRequest?.Key ? [{ DeleteRequest: { Key: r.DeleteRequest.Key } }] : []));
    }
  }
  return itemKeys.length;
}

/**
 * Every page of a Query (following LastEvaluatedKey), up to `maxItems`. SDK errors are the caller's to
 * translate, as for any single call.
 */
export async function queryAll(db: DynamoDBDocumentClient, input: Omit<QueryCommandInput, 'ExclusiveStartKey'>, maxItems = Number.POSITIVE_INFINITY): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.send(new QueryCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start !== undefined && items.length < maxItems);
  return items.slice(0, maxItems);
}
