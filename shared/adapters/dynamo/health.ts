import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { HealthProbe } from '../../domain/ports';
import { keys } from './keys';

/** A GetItem on a fixed key: proves the table, the key policy and the network path, costs half an RCU. */
export class DynamoHealthProbe implements HealthProbe {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async ping(): Promise<void> {
    await this.db.send(new GetCommand({ TableName: this.tableName, Key: keys.health() }));
  }
}
