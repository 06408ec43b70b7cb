import { deleteAll, queryAll } from './batch';
import { translateDynamoError } from './errors';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Per partition, at most this many items are deleted per run: a run stays short; the next one goes on. */
const MAX_PER_RUN = 10_000;

/**
 * FR-OPS-003: the retention job's table access. Expired items of one kind are one key range of their
 * partition (the sort keys start with the record's timestamp or day), so finding them is a Query that
 * reads only keys, never a Scan.
 */
export class DynamoRetentionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Deletes the items of `pk` whose sort key lies in [prefix, prefix + upTo); returns how many. */
  async deleteRange(pk: string, prefix: string, upTo: string): Promise<number> {
    try {
      const items = await queryAll(
        this.db,
        {
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': pk, ':from': prefix, ':to': `${prefix}${upTo}` },
          ProjectionExpression: 'PK, SK',
        },
        MAX_PER_RUN,
      );
      return await deleteAll(this.db, this.tableName, items.map((i) => ({ PK: String(i['PK']), SK: String(i['SK']) })));
    } catch (err) {
      throw translateDynamoError(err);
    }
  }
}
