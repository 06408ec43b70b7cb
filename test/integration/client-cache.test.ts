/**
 * The token path's client cache (FR-SYS-003, ADR-0010) against DynamoDB Local: a change made through this
 * process's store applies to new grants at once; a change made elsewhere (another Lambda environment,
 * simulated by writing the item directly) applies within CLIENT_CACHE_SECONDS; unknown clients are never
 * cached.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDocumentClient } from '../../shared/adapters/dynamo/client';
import { DynamoIdentityStore } from '../../shared/adapters/dynamo/identity-store';
import { keys } from '../../shared/adapters/dynamo/keys';
import { ensureTable } from '../../shared/adapters/dynamo/table-admin';
import { CLIENT_CACHE_SECONDS, type ManagedApp } from '../../shared/domain/identity/apps';

const tableName = `it-clients-${randomUUID()}`;
const db = createDocumentClient({ endpoint: inject('dynamoEndpoint') });
let nowMs = Date.parse('2030-01-01T00:00:00.000Z');
const store = new DynamoIdentityStore(db, tableName, () => nowMs);
/** A second store object of the same process: shares the cache, as every handler of one environment does. */
const sibling = new DynamoIdentityStore(db, tableName, () => nowMs);

function app(): ManagedApp {
  const at = new Date(nowMs).toISOString();
  return {
    id: `app_${randomUUID()}`,
    name: 'Cached',
    environment: 'production',
    clientType: 'confidential',
    grantTypes: ['client_credentials'],
    redirectUris: [],
    postLogoutRedirectUris: [],
    status: 'Active',
    ownerId: 'dev-1',
    secrets: [{ hash: 'h', createdAt: at, expiresAt: null }],
    createdAt: at,
    updatedAt: at,
  };
}

/** What another execution environment's write looks like from here: the item changes, our cache does not hear of it. */
async function disableElsewhere(id: string): Promise<void> {
  await db.send(new UpdateCommand({ TableName: tableName, Key: keys.app(id), UpdateExpression: 'SET #s = :d', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':d': 'Disabled' } }));
}

beforeAll(async () => {
  await ensureTable(new DynamoDBClient({ endpoint: inject('dynamoEndpoint'), region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }), tableName);
});
afterAll(() => db.destroy());

describe('getAppForGrant: the client cache of the token path', () => {
  it(`FR-SYS-003: a disable made in another environment reaches new grants within ${CLIENT_CACHE_SECONDS} s`, async () => {
    const a = app();
    await store.createApp(a);
    expect((await store.getAppForGrant(a.id))?.status).toBe('Active');
    await disableElsewhere(a.id);
    // getApp (every admin path) reads the table; the token path may still hold the old record briefly.
    expect((await store.getApp(a.id))?.status).toBe('Disabled');
    nowMs += CLIENT_CACHE_SECONDS * 1000 - 1;
    expect((await store.getAppForGrant(a.id))?.status).toBe('Active');
    nowMs += 1;
    expect((await store.getAppForGrant(a.id))?.status).toBe('Disabled');
  });

  it('FR-SYS-003: a change saved through any store of this environment applies at once', async () => {
    const a = app();
    await store.createApp(a);
    expect((await store.getAppForGrant(a.id))?.status).toBe('Active');
    await sibling.saveApp({ ...a, status: 'Disabled', updatedAt: new Date(nowMs + 1).toISOString() }, a.updatedAt);
    expect((await store.getAppForGrant(a.id))?.status).toBe('Disabled');
  });

  it('FR-SYS-001: an unknown client id is not cached, so a client registered elsewhere works at once', async () => {
    const a = app();
    expect(await store.getAppForGrant(a.id)).toBeUndefined();
    await new DynamoIdentityStore(createDocumentClient({ endpoint: inject('dynamoEndpoint') }), tableName).createApp(a);
    expect((await store.getAppForGrant(a.id))?.id).toBe(a.id);
  });

  it('FR-SYS-003: a failed save (the app changed concurrently) leaves no stale entry behind', async () => {
    const a = app();
    await store.createApp(a);
    expect((await store.getAppForGrant(a.id))?.status).toBe('Active');
    await disableElsewhere(a.id);
    await expect(sibling.saveApp({ ...a, name: 'Renamed' }, 'not-the-current-updatedAt')).rejects.toThrow();
    expect((await store.getAppForGrant(a.id))?.status).toBe('Disabled');
  });
});
