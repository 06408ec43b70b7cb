import { BatchWriteCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../domain/errors';
import type { Page, ProvisioningBundle, TenantStore } from '../../domain/ports';
import type { Tenant } from '../../domain/tenant';
import {
  decodeTenant,
  toFlagItem,
  toInvitationItem,
  toTenantDomainItem,
  toTenantItem,
  toUserEmailItem,
  toUserItem,
} from './codecs';
import { translateDynamoError, type NamedCondition } from './errors';
import { keys } from './keys';

const NOT_EXISTS = 'attribute_not_exists(PK)';
const GSI1SK_PATTERN = /^\d{4}-\d{2}-\d{2}T[\d:.]+Z#[0-9a-f-]{36}$/;

export class DynamoTenantStore implements TenantStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async provision(bundle: ProvisioningBundle): Promise<void> {
    const { tenant, owner, invitation, flags } = bundle;
    const puts: { item: Record<string, unknown>; condition?: NamedCondition }[] = [
      { item: toTenantItem(tenant), condition: { name: 'TenantIdTaken', detail: 'A tenant with this id already exists.' } },
      {
        item: toTenantDomainItem(tenant),
        condition: {
          name: 'TenantDomainTaken',
          detail: 'The tenant domain is already in use.',
          issue: { location: 'body', pointer: '/domain', detail: 'is already in use' },
        },
      },
      { item: toUserItem(owner), condition: { name: 'UserIdTaken', detail: 'A user with this id already exists.' } },
      {
        item: toUserEmailItem(owner),
        condition: {
          name: 'UserEmailTaken',
          detail: 'A user with this email already exists in the tenant.',
          issue: { location: 'body', pointer: '/ownerEmail', detail: 'is already a user of the tenant' },
        },
      },
      { item: toInvitationItem(invitation), condition: { name: 'InvitationIdTaken', detail: 'Invitation id collision.' } },
      ...flags.map((f) => ({ item: toFlagItem(f) })),
    ];
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: puts.map(({ item, condition }) => ({
            Put: {
              TableName: this.tableName,
              Item: item,
              ...(condition ? { ConditionExpression: NOT_EXISTS } : {}),
            },
          })),
        }),
      );
    } catch (err) {
      throw translateDynamoError(err, puts.map((p) => p.condition));
    }
  }

  async get(tenantId: string): Promise<Tenant | undefined> {
    try {
      const out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: keys.tenant(tenantId), ConsistentRead: true }));
      return out.Item === undefined ? undefined : decodeTenant(out.Item);
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  async list(options: { limit: number; cursor?: string | undefined }): Promise<Page<Tenant>> {
    const start = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    try {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'GSI1',
          KeyConditionExpression: 'GSI1PK = :pk',
          ExpressionAttributeValues: { ':pk': keys.tenantIndexPartition },
          Limit: options.limit,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      const items = (out.Items ?? []).map(decodeTenant);
      const last = out.LastEvaluatedKey;
      const lastSk = last?.['GSI1SK'];
      return { items, nextCursor: typeof lastSk === 'string' ? encodeCursor(lastSk) : null };
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  async save(tenant: Tenant, previous: Tenant): Promise<void> {
    const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [
      {
        Put: {
          TableName: this.tableName,
          Item: toTenantItem(tenant),
          ConditionExpression: 'updatedAt = :u',
          ExpressionAttributeValues: { ':u': previous.updatedAt },
        },
      },
    ];
    if (tenant.status === 'PendingDeletion' && tenant.deletion && previous.status !== 'PendingDeletion') {
      items.push({ Put: { TableName: this.tableName, Item: { ...keys.purgeQueue(tenant.deletion.purgeAfter, tenant.id), entity: 'PurgeQueue', tenantId: tenant.id } } });
    }
    if (previous.status === 'PendingDeletion' && previous.deletion && tenant.status !== 'PendingDeletion') {
      items.push({ Delete: { TableName: this.tableName, Key: keys.purgeQueue(previous.deletion.purgeAfter, tenant.id) } });
    }
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      throw translateDynamoError(err, [{ name: 'TenantChanged', detail: 'The tenant changed concurrently; retry.' }]);
    }
  }

  async purgeDue(now: Date, limit: number): Promise<string[]> {
    try {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND SK <= :upto',
          ExpressionAttributeValues: { ':pk': keys.purgeQueuePartition, ':upto': `Q#${now.toISOString()}~` },
          Limit: limit,
        }),
      );
      return (out.Items ?? []).map((i) => String(i['tenantId']));
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  async isPurged(tenantId: string): Promise<boolean> {
    try {
      const out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: keys.purgedTenant(tenantId), ConsistentRead: true }));
      return out.Item !== undefined;
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  /**
   * Order matters for resumability: first the tombstone (it remembers the domain and the queue entry),
   * then every item of the partition, then the sentinels outside it, last the queue entry. Interrupted
   * anywhere, the next run finds the tombstone and carries on; run twice, it deletes nothing more.
   */
  async purge(tenantId: string, now: Date): Promise<{ deletedItems: number; domain: string | null }> {
    try {
      const tombKey = keys.purgedTenant(tenantId);
      const existing = (await this.db.send(new GetCommand({ TableName: this.tableName, Key: tombKey, ConsistentRead: true }))).Item;
      let domain = typeof existing?.['domain'] === 'string' ? existing['domain'] : null;
      let purgeAfter = typeof existing?.['purgeAfter'] === 'string' ? existing['purgeAfter'] : null;
      if (!existing) {
        const tenant = await this.get(tenantId);
        if (!tenant) return { deletedItems: 0, domain: null };
        domain = tenant.domain;
        purgeAfter = tenant.deletion?.purgeAfter ?? null;
        await this.db.send(new PutCommand({ TableName: this.tableName, Item: { ...tombKey, entity: 'PurgedTenant', tenantId, domain, purgeAfter, purgeStartedAt: now.toISOString() } }));
      }
      let deleted = 0;
      for (;;) {
        const page = await this.db.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'PK = :pk',
            ExpressionAttributeValues: { ':pk': keys.tenantPartition(tenantId) },
            ProjectionExpression: 'PK, SK',
            ConsistentRead: true,
            Limit: 100,
          }),
        );
        const itemKeys = (page.Items ?? []).map((i) => ({ PK: String(i['PK']), SK: String(i['SK']) }));
        if (itemKeys.length === 0) break;
        for (let i = 0; i < itemKeys.length; i += 25) deleted += await this.deleteBatch(itemKeys.slice(i, i + 25));
      }
      if (domain) await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: keys.tenantDomain(domain), ConditionExpression: 'attribute_not_exists(PK) OR tenantId = :t', ExpressionAttributeValues: { ':t': tenantId } })).catch((err: unknown) => {
        // Someone else owns the domain by now (it was free for reuse): theirs to keep.
        if (!(err instanceof Error && err.name === 'ConditionalCheckFailedException')) throw err;
      });
      if (purgeAfter) await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: keys.purgeQueue(purgeAfter, tenantId) }));
      await this.db.send(new PutCommand({ TableName: this.tableName, Item: { ...tombKey, entity: 'PurgedTenant', tenantId, domain, purgeAfter, purgedAt: now.toISOString() } }));
      return { deletedItems: deleted, domain };
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  /** BatchWriteItem may hand back unprocessed items under load: retry them with backoff, never drop them. */
  private async deleteBatch(batch: { PK: string; SK: string }[]): Promise<number> {
    let pending: { DeleteRequest: { Key: { PK: string; SK: string } } }[] = batch.map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 8) throw new Error('purge: unprocessed deletes after retries');
      if (attempt > 0) await sleep(50 * 2 ** attempt);
      const out = await this.db.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
      pending = (out.UnprocessedItems?.[this.tableName] ?? []) as typeof pending;
    }
    return batch.length;
  }
}

/**
 * Cursor note below; purge helpers here.
 */
async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/**
 * The cursor carries only the index sort key; the adapter rebuilds the full start key from it, so a
 * client cannot aim the query at any other partition by forging a cursor.
 */
function encodeCursor(gsi1sk: string): string {
  return Buffer.from(gsi1sk, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): Record<string, string> {
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!GSI1SK_PATTERN.test(raw)) {
    throw new ValidationError('The cursor is not valid.', [{ location: 'query', pointer: '/cursor', detail: 'is not a cursor this API issued' }]);
  }
  const tenantId = raw.slice(raw.indexOf('#') + 1);
  return { ...keys.tenant(tenantId), ...keys.tenantIndex(raw.slice(0, raw.indexOf('#')), tenantId) };
}
