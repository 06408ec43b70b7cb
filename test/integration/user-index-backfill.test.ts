/**
 * The one-off completion of the user status/role indexes for tables written before they existed
 * (NFR-CAP-002), against DynamoDB Local: entries are derived from the email index, written once, and an
 * entry already there (written by the application) is never overwritten.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDocumentClient } from '../../shared/adapters/dynamo/client';
import { toUserEmailItem, toUserFilterItems } from '../../shared/adapters/dynamo/codecs';
import { keys } from '../../shared/adapters/dynamo/keys';
import { ensureTable } from '../../shared/adapters/dynamo/table-admin';
import { backfillUserFilterEntries } from '../../shared/adapters/dynamo/user-index-backfill';
import type { TenantUser } from '../../shared/domain/model';

const tableName = `it-backfill-${randomUUID()}`;
const db = createDocumentClient({ endpoint: inject('dynamoEndpoint') });
const tenantId = randomUUID();

const user = (email: string, role: TenantUser['role'], status: TenantUser['status']): TenantUser => ({ id: randomUUID(), tenantId, email, role, status, createdAt: '2030-01-01T00:00:00.000Z' });

async function partition(): Promise<Record<string, unknown>[]> {
  const out = await db.send(new QueryCommand({ TableName: tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': keys.tenantPartition(tenantId) }, ConsistentRead: true }));
  return out.Items ?? [];
}

beforeAll(async () => {
  await ensureTable(new DynamoDBClient({ endpoint: inject('dynamoEndpoint'), region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }), tableName);
});
afterAll(() => db.destroy());

describe('backfillUserFilterEntries', () => {
  it('NFR-CAP-002: users of an older table get their status and role entries, once; existing entries are left alone', async () => {
    const old = [user('a@x.example', 'Owner', 'Active'), user('b@x.example', 'User', 'Disabled')];
    for (const u of old) await db.send(new PutCommand({ TableName: tableName, Item: toUserEmailItem(u) }));
    // A user the application wrote after the change: its entries exist and carry newer data than its email entry.
    const current = user('c@x.example', 'Administrator', 'Invited');
    await db.send(new PutCommand({ TableName: tableName, Item: toUserEmailItem(current) }));
    for (const entry of toUserFilterItems(current)) await db.send(new PutCommand({ TableName: tableName, Item: { ...entry, marker: 'app' } }));

    expect(await backfillUserFilterEntries(db, tableName)).toBe(4);
    const entries = (await partition()).filter((i) => i['entity'] === 'UserFilterEntry');
    expect(entries.map((i) => String(i['SK'])).sort()).toEqual(
      ['USERROLE#Owner#a@x.example', 'USERSTATUS#Active#a@x.example', 'USERROLE#User#b@x.example', 'USERSTATUS#Disabled#b@x.example', 'USERROLE#Administrator#c@x.example', 'USERSTATUS#Invited#c@x.example'].sort(),
    );
    expect(entries.filter((i) => i['email'] === 'c@x.example').every((i) => i['marker'] === 'app')).toBe(true);
    expect(entries.find((i) => i['SK'] === 'USERSTATUS#Disabled#b@x.example')).toMatchObject({ userId: old[1]!.id, role: 'User', status: 'Disabled' });

    expect(await backfillUserFilterEntries(db, tableName)).toBe(0);
  });
});
