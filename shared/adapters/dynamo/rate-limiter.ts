import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import type { RateLimiter } from '../../domain/identity/ports';
import { translateDynamoError } from './errors';
import { keys } from './keys';

/**
 * ERR-RATE-429 for sign-in and reset: one atomic ADD per attempt on a fixed window counter. The subject
 * (an IP, or tenant + email) is hashed before it becomes a key, so the table holds no addresses.
 */
export class DynamoRateLimiter implements RateLimiter {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async hit(bucket: string, subject: string, limit: number, windowSeconds: number, now: Date): Promise<number> {
    const nowS = Math.floor(now.getTime() / 1000);
    const window = Math.floor(nowS / windowSeconds);
    const subjectHash = hashSubject(subject);
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.rateWindow(bucket, subjectHash, window),
          UpdateExpression: 'ADD hits :one SET #ttl = if_not_exists(#ttl, :ttl)',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':one': 1, ':ttl': (window + 2) * windowSeconds },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      const hits = Number(out.Attributes?.['hits'] ?? 0);
      return hits > limit ? (window + 1) * windowSeconds - nowS : 0;
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  async refund(bucket: string, subject: string, windowSeconds: number, at: Date): Promise<void> {
    const window = Math.floor(Math.floor(at.getTime() / 1000) / windowSeconds);
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.rateWindow(bucket, hashSubject(subject), window),
          UpdateExpression: 'ADD hits :minusOne',
          // Only an existing, positive counter: a refund never creates a window or takes one below zero.
          ConditionExpression: 'hits > :zero',
          ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0 },
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return;
      throw translateDynamoError(err);
    }
  }
}

function hashSubject(subject: string): string {
  return createHash('sha256').update(subject).digest('base64url').slice(0, 32);
}
