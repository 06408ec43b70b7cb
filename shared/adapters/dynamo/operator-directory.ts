import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { InternalError } from '../../domain/errors';
import type { OperatorUser } from '../../domain/model';
import type { IdGenerator, OperatorDirectory, OperatorIdentity } from '../../domain/ports';
import { decodeOperator, toOperatorItem } from './codecs';
import { translateDynamoError } from './errors';
import { keys } from './keys';

/** Bounded so a flood of distinct identities cannot grow memory without limit. */
const CACHE_MAX = 1_000;

/**
 * FR-SYS-004. The record is keyed by (issuer, subject), never by email: emails are reassigned, subjects
 * are not. Found records are cached per execution environment: an operator record never changes once
 * created, so the cache saves one read per request and cannot go stale.
 */
export class DynamoOperatorDirectory implements OperatorDirectory {
  private readonly cache = new Map<string, OperatorUser>();

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly ids: IdGenerator,
  ) {}

  async findOrProvision(identity: OperatorIdentity, now: Date): Promise<{ user: OperatorUser; created: boolean }> {
    const key = keys.operatorIdentity(identity.issuer, identity.subject);
    const cacheKey = `${key.PK}|${key.SK}`;
    const cached = this.cache.get(cacheKey);
    if (cached) return { user: cached, created: false };

    const existing = await this.read(key);
    if (existing) return { user: this.remember(cacheKey, existing), created: false };

    const user: OperatorUser = {
      id: this.ids.uuid(),
      tenantId: null,
      role: 'Operator',
      status: 'Active',
      email: identity.email ?? null,
      issuer: identity.issuer,
      subject: identity.subject,
      createdAt: now.toISOString(),
    };
    try {
      await this.db.send(
        new PutCommand({ TableName: this.tableName, Item: toOperatorItem(user), ConditionExpression: 'attribute_not_exists(PK)' }),
      );
      return { user: this.remember(cacheKey, user), created: true };
    } catch (err) {
      // Two first requests raced; the winner's record is the operator's record.
      if (err instanceof ConditionalCheckFailedException) {
        const winner = await this.read(key);
        if (winner) return { user: this.remember(cacheKey, winner), created: false };
        throw new InternalError('operator record vanished after a conditional failure', err);
      }
      throw translateDynamoError(err);
    }
  }

  private async read(key: { PK: string; SK: string }): Promise<OperatorUser | undefined> {
    try {
      const out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
      return out.Item === undefined ? undefined : decodeOperator(out.Item);
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  private remember(cacheKey: string, user: OperatorUser): OperatorUser {
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(cacheKey, user);
    return user;
  }
}
