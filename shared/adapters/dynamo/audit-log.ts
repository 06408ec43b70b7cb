import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditRecord } from '../../domain/audit';
import type { AuditLog } from '../../domain/ports';
import { decodeAudit, toAuditItem } from './codecs';
import { translateDynamoError } from './errors';
import { keys } from './keys';

/**
 * Writes audit records straight into the table, in the tenant's partition (or the platform's). The
 * ingestion pipeline (SQS → consumer → Firehose/S3, issue #6) will sit behind the same AuditLog port.
 * The put is conditional on the record id, so a retried write never doubles a record.
 */
export class DynamoAuditLog implements AuditLog {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async write(record: AuditRecord): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({ TableName: this.tableName, Item: toAuditItem(record), ConditionExpression: 'attribute_not_exists(PK)' }),
      );
    } catch (err) {
      if (err instanceof Error && err.name === 'ConditionalCheckFailedException') return; // already written: idempotent
      throw translateDynamoError(err);
    }
  }

  /** Newest-first records of one tenant (null: platform-level). Used by tests and, later, the auditor API. */
  async listForTenant(tenantId: string | null, limit = 100): Promise<AuditRecord[]> {
    const pk = tenantId === null ? keys.platformAudit('', '').PK : keys.tenantPartition(tenantId);
    try {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
          ExpressionAttributeValues: { ':pk': pk, ':sk': 'AUDIT#' },
          ScanIndexForward: false,
          Limit: limit,
        }),
      );
      return (out.Items ?? []).map(decodeAudit);
    } catch (err) {
      throw translateDynamoError(err);
    }
  }
}
