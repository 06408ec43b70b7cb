/** DynamoDB storage of API access keys (DAT-KEY); layout documented at `keys.apiKey` in keys.ts. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { ApiKeyRecord, ApiKeyStore } from '../../domain/apikeys';
import { API_KEY_SCOPES } from '../../domain/delivery-ports';
import { InternalError } from '../../domain/errors';
import { queryAll } from './batch';
import { translateDynamoError } from './errors';
import { keys } from './keys';

const apiKeyItem = z.object({
  keyId: z.string(),
  appId: z.string(),
  name: z.string(),
  scopes: z.array(z.enum(API_KEY_SCOPES)),
  secretHash: z.string(),
  status: z.enum(['Active', 'Revoked']),
  createdAt: z.string(),
  createdBy: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable().default(null),
  revokedAt: z.string().nullable().default(null),
  revokedBy: z.string().nullable().default(null),
});

/** Verification needs only the application's status: a minimal schema keeps it independent of the app's other fields. */
const appStatusItem = z.object({ status: z.enum(['Active', 'Disabled']) });

function decodeKey(item: unknown): ApiKeyRecord {
  const r = apiKeyItem.safeParse(item);
  if (!r.success) throw new InternalError(`corrupt api key item: ${r.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  return r.data;
}

/** Bounds one listing: far above any sensible number of keys per application, and stops a runaway loop. */
const MAX_LISTED = 1000;

export class DynamoApiKeyStore implements ApiKeyStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(record: ApiKeyRecord): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...keys.apiKey(record.keyId), ...keys.apiKeyAppIndex(record.appId, record.createdAt, record.keyId), entity: 'ApiKey', ...record },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
    } catch (err) {
      throw translateDynamoError(err, [{ name: 'KeyIdTaken', detail: 'API key id collision.' }]);
    }
  }

  async get(keyId: string): Promise<ApiKeyRecord | undefined> {
    try {
      // Consistent: a revocation must be seen by the next uncached verification (SC-003).
      const out = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.apiKey(keyId), ConsistentRead: true }));
      return out.Item ? decodeKey(out.Item) : undefined;
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  async listByApp(appId: string): Promise<ApiKeyRecord[]> {
    try {
      const items = await queryAll(
        this.db,
        { TableName: this.table, IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': keys.apiKeyAppIndexPartition(appId) } },
        MAX_LISTED,
      );
      return items.map(decodeKey);
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  async revoke(keyId: string, at: string, by: string): Promise<ApiKeyRecord | undefined> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.apiKey(keyId),
          UpdateExpression: 'SET #s = :revoked, revokedAt = :at, revokedBy = :by',
          ConditionExpression: 'attribute_exists(PK) AND #s = :active',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':revoked': 'Revoked', ':active': 'Active', ':at': at, ':by': by },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return decodeKey(out.Attributes);
    } catch (err) {
      // Missing or revoked meanwhile: what is stored now is the answer (revocation is idempotent).
      if (err instanceof ConditionalCheckFailedException) return this.get(keyId);
      throw translateDynamoError(err);
    }
  }

  async appStatus(appId: string): Promise<'Active' | 'Disabled' | undefined> {
    try {
      const out = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.app(appId), ConsistentRead: true, ProjectionExpression: '#s', ExpressionAttributeNames: { '#s': 'status' } }));
      if (!out.Item) return undefined;
      const r = appStatusItem.safeParse(out.Item);
      if (!r.success) throw new InternalError('corrupt app item: status');
      return r.data.status;
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  async touchLastUsed(keyId: string, at: string, threshold: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.apiKey(keyId),
          UpdateExpression: 'SET lastUsedAt = :at',
          // attribute_exists(PK): never create a stub item for a key deleted meanwhile. The threshold keeps
          // many environments from writing the same key more than about once per interval.
          ConditionExpression: 'attribute_exists(PK) AND (attribute_not_exists(lastUsedAt) OR lastUsedAt = :null OR lastUsedAt < :threshold)',
          ExpressionAttributeValues: { ':at': at, ':threshold': threshold, ':null': null },
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return; // another environment recorded it recently
      throw translateDynamoError(err);
    }
  }
}
