/**
 * ERR-RATE-429's counters against DynamoDB Local: fixed windows counted up front, and the refund that lets a
 * successful sign-in give its units back (the limits are about failed attempts).
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDocumentClient } from '../../shared/adapters/dynamo/client';
import { DynamoRateLimiter } from '../../shared/adapters/dynamo/rate-limiter';
import { ensureTable } from '../../shared/adapters/dynamo/table-admin';

const tableName = `it-rate-${randomUUID()}`;
const db = createDocumentClient({ endpoint: inject('dynamoEndpoint') });
const limiter = new DynamoRateLimiter(db, tableName);
const at = new Date('2030-01-01T00:00:10.000Z');

beforeAll(async () => {
  await ensureTable(new DynamoDBClient({ endpoint: inject('dynamoEndpoint'), region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }), tableName);
});
afterAll(() => db.destroy());

describe('DynamoRateLimiter (ERR-RATE-429)', () => {
  it('ERR-RATE-429: the call past the limit waits until the window ends; the next window starts afresh', async () => {
    const s = `ip-${randomUUID()}`;
    expect(await limiter.hit('b', s, 2, 60, at)).toBe(0);
    expect(await limiter.hit('b', s, 2, 60, at)).toBe(0);
    expect(await limiter.hit('b', s, 2, 60, at)).toBe(50); // window 00:00-01:00, now 00:10
    expect(await limiter.hit('b', s, 2, 60, new Date(at.getTime() + 60_000))).toBe(0);
  });

  it('ERR-RATE-429: a refund gives one unit back to the window the attempt was counted in', async () => {
    const s = `ip-${randomUUID()}`;
    await limiter.hit('b', s, 2, 60, at);
    await limiter.hit('b', s, 2, 60, at);
    await limiter.refund('b', s, 60, at);
    // Refunded: a third attempt in the same window is still allowed, a fourth is not.
    expect(await limiter.hit('b', s, 2, 60, new Date(at.getTime() + 20_000))).toBe(0);
    expect(await limiter.hit('b', s, 2, 60, new Date(at.getTime() + 20_000))).toBeGreaterThan(0);
  });

  it('ERR-RATE-429: a refund never creates a window nor takes a counter below zero', async () => {
    const s = `ip-${randomUUID()}`;
    // Nothing counted yet: had the refund created a counter at -1, two hits would pass a limit of 1.
    await limiter.refund('b', s, 60, at);
    expect(await limiter.hit('b', s, 1, 60, at)).toBe(0);
    expect(await limiter.hit('b', s, 1, 60, at)).toBeGreaterThan(0);
    const t = `ip-${randomUUID()}`;
    await limiter.hit('b', t, 1, 60, at);
    await limiter.refund('b', t, 60, at);
    await limiter.refund('b', t, 60, at); // the counter is at 0: it stays there
    expect(await limiter.hit('b', t, 1, 60, at)).toBe(0);
    expect(await limiter.hit('b', t, 1, 60, at)).toBeGreaterThan(0);
  });
});
