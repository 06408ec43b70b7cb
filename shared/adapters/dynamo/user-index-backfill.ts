import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TENANT_ROLES, USER_STATUSES, type TenantUser } from '../../domain/model';
import { ENTITY, toUserFilterItems } from './codecs';
import { translateDynamoError } from './errors';

/**
 * Tables written before users had status and role index entries (codecs.toUserFilterItems) hold only the
 * email index: this writes the missing entries from it, once. Local mode runs it at start-up on a table
 * that already existed; each put is conditional, so a second run, or an entry written meanwhile by the
 * application, is left alone. Returns how many entries it wrote.
 *
 * It scans the whole table: fine for a local data directory, and the reason it is not on any request path.
 */
export async function backfillUserFilterEntries(db: DynamoDBDocumentClient, table: string): Promise<number> {
  let written = 0;
  let start: Record<string, unknown> | undefined;
  try {
    do {
      const page = await db.send(
        new ScanCommand({
          TableName: table,
          FilterExpression: 'entity = :e',
          ExpressionAttributeValues: { ':e': ENTITY.userEmail },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const user = asUser(item);
        if (!user) continue;
        for (const entry of toUserFilterItems(user)) {
          try {
            await db.send(new PutCommand({ TableName: table, Item: entry, ConditionExpression: 'attribute_not_exists(PK)' }));
            written++;
          } catch (err) {
            if (!(err instanceof ConditionalCheckFailedException)) throw err;
          }
        }
      }
      start = page.LastEvaluatedKey;
    } while (start);
  } catch (err) {
    throw translateDynamoError(err);
  }
  return written;
}

function asUser(item: Record<string, unknown>): TenantUser | undefined {
  const { tenantId, userId, email, role, status, createdAt } = item;
  if (typeof tenantId !== 'string' || typeof userId !== 'string' || typeof email !== 'string' || typeof createdAt !== 'string') return undefined;
  if (!TENANT_ROLES.includes(role as TenantUser['role']) || !USER_STATUSES.includes(status as TenantUser['status'])) return undefined;
  return { id: userId, tenantId, email, role: role as TenantUser['role'], status: status as TenantUser['status'], createdAt };
}
