import { GetCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
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
