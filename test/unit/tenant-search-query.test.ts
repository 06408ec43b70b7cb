/**
 * NFR-CAP-001: every tenant listing and search is a Query on GSI1 — never a Scan — aimed at the partition
 * the search calls for, and a filtered search reads a bounded amount per request. The commands sent are
 * asserted with aws-sdk-client-mock; the results themselves are tested against DynamoDB Local
 * (test/integration/tenant-search.test.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoTenantStore } from '../../shared/adapters/dynamo/tenant-store';
import { prefixEnd } from '../../shared/adapters/dynamo/keys';
import { AppError } from '../../shared/domain/errors';
import type { TenantSearch } from '../../shared/domain/ports';
import type { Tenant } from '../../shared/domain/tenant';

const ddb = mockClient(DynamoDBDocumentClient);
afterEach(() => ddb.reset());

function store(): DynamoTenantStore {
  return new DynamoTenantStore(DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-central-1' })), 'table-x');
}

const ID = (n: number): string => `6f1a2b3c-0000-4000-8000-${String(n).padStart(12, '0')}`;

function entry(n: number, gsi1pk: string, gsi1sk: string): Record<string, unknown> {
  const tenant: Tenant = { id: ID(n), name: `T ${n}`, domain: `t-${n}`, plan: 'Pro', status: 'Active', homeRegion: 'eu-central-1', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' };
  return { PK: `TENANT#${tenant.id}`, SK: 'TENANTIDX#DOMAIN', GSI1PK: gsi1pk, GSI1SK: gsi1sk, entity: 'TenantSearch', ...tenant };
}

function queries(): QueryCommandInput[] {
  return ddb.calls().map((c) => {
    // Anything but a Query (a Scan above all) fails here.
    expect(c.args[0]).toBeInstanceOf(QueryCommand);
    return (c.args[0] as QueryCommand).input;
  });
}

describe('NFR-CAP-001: which Query answers which search', () => {
  const cases: { search: TenantSearch; pk: string; prefix?: string; filter?: string }[] = [
    { search: {}, pk: 'TENANTS' },
    { search: { status: 'Suspended' }, pk: 'TENANTS#STATUS#Suspended' },
    { search: { plan: 'Enterprise' }, pk: 'TENANTS#PLAN#Enterprise' },
    { search: { status: 'PendingDeletion', plan: 'Free' }, pk: 'TENANTS#STATUS#PendingDeletion#PLAN#Free' },
    { search: { domainPrefix: 'Acme' }, pk: 'TENANTS#DOMAIN', prefix: 'acme' },
    { search: { domainPrefix: 'acme', status: 'Active' }, pk: 'TENANTS#DOMAIN', prefix: 'acme', filter: '#status = :status' },
    { search: { domainPrefix: 'acme', plan: 'Pro' }, pk: 'TENANTS#DOMAIN', prefix: 'acme', filter: '#plan = :plan' },
    { search: { domainPrefix: 'acme', status: 'Active', plan: 'Pro' }, pk: 'TENANTS#DOMAIN', prefix: 'acme', filter: '#status = :status AND #plan = :plan' },
    { search: { domainPrefix: 'acme', namePrefix: 'Acme  Corp' }, pk: 'TENANTS#DOMAIN', prefix: 'acme', filter: 'begins_with(#searchName, :name)' },
    { search: { namePrefix: '  ACME   Corp#1 ' }, pk: 'TENANTS#NAME', prefix: 'acme corp%231' },
    { search: { namePrefix: '100%' }, pk: 'TENANTS#NAME', prefix: '100%25' },
    { search: { namePrefix: 'acme', status: 'Suspended', plan: 'Free' }, pk: 'TENANTS#NAME', prefix: 'acme', filter: '#status = :status AND #plan = :plan' },
  ];

  for (const c of cases) {
    it(`NFR-CAP-001: ${JSON.stringify(c.search)} → one Query on GSI1 partition ${c.pk}${c.filter ? ' with a filter' : ''}`, async () => {
      ddb.on(QueryCommand).resolves({ Items: [] });
      await store().list({ limit: 10, search: c.search });
      const [q, ...more] = queries();
      expect(more).toEqual([]);
      expect(q).toMatchObject({ TableName: 'table-x', IndexName: 'GSI1' });
      expect(q?.ExpressionAttributeValues?.[':pk']).toBe(c.pk);
      expect(q?.KeyConditionExpression).toBe(c.prefix === undefined ? 'GSI1PK = :pk' : 'GSI1PK = :pk AND GSI1SK BETWEEN :prefix AND :prefixEnd');
      if (c.prefix !== undefined) {
        expect(q?.ExpressionAttributeValues?.[':prefix']).toBe(c.prefix);
        expect(q?.ExpressionAttributeValues?.[':prefixEnd']).toBe(prefixEnd(c.prefix));
      }
      expect(q?.FilterExpression).toBe(c.filter);
      // Unfiltered reads exactly a page; filtered ones read more per call, since the filter drops entries.
      expect(q?.Limit).toBe(c.filter ? 200 : 10);
    });
  }
});

describe('NFR-CAP-001: bounded reads and exact cursors', () => {
  it('NFR-CAP-001: a filtered search that keeps finding nothing stops after 5 Queries and hands back a cursor that resumes there', async () => {
    const sk = (n: number): string => `t-${n}#${ID(n)}`;
    let n = 0;
    ddb.on(QueryCommand).callsFake(() => {
      n++;
      return { Items: [], LastEvaluatedKey: { PK: `TENANT#${ID(n)}`, SK: 'TENANTIDX#DOMAIN', GSI1PK: 'TENANTS#DOMAIN', GSI1SK: sk(n) } };
    });
    const search: TenantSearch = { domainPrefix: 't-', status: 'Suspended' };
    const page = await store().list({ limit: 25, search });
    expect(page.items).toEqual([]);
    const qs = queries();
    expect(qs).toHaveLength(5);
    expect(qs[1]?.ExclusiveStartKey).toEqual({ PK: `TENANT#${ID(1)}`, SK: 'TENANTIDX#DOMAIN', GSI1PK: 'TENANTS#DOMAIN', GSI1SK: sk(1) });
    expect(page.nextCursor).not.toBeNull();

    ddb.resetHistory();
    await store().list({ limit: 25, search, cursor: page.nextCursor! });
    // The key rebuilt from the cursor, not taken from it.
    expect(queries()[0]?.ExclusiveStartKey).toEqual({ PK: `TENANT#${ID(5)}`, SK: 'TENANTIDX#DOMAIN', GSI1PK: 'TENANTS#DOMAIN', GSI1SK: sk(5) });
  });

  it('NFR-CAP-001: a page filled inside a read ends at the last item returned, so nothing after it is skipped', async () => {
    const items = [1, 2, 3, 4].map((n) => entry(n, 'TENANTS#DOMAIN', `t-${n}#${ID(n)}`));
    ddb.on(QueryCommand).resolves({ Items: items, LastEvaluatedKey: { PK: 'x', SK: 'y', GSI1PK: 'TENANTS#DOMAIN', GSI1SK: `t-9#${ID(9)}` } });
    const page = await store().list({ limit: 2, search: { domainPrefix: 't', plan: 'Pro' } });
    expect(page.items.map((t) => t.id)).toEqual([ID(1), ID(2)]);
    ddb.resetHistory();
    await store().list({ limit: 2, search: { domainPrefix: 't', plan: 'Pro' }, cursor: page.nextCursor! });
    expect(queries()[0]?.ExclusiveStartKey).toMatchObject({ PK: `TENANT#${ID(2)}`, GSI1SK: `t-2#${ID(2)}` });
  });

  it('NFR-CAP-001: the last page of a read that ended the partition has no cursor', async () => {
    ddb.on(QueryCommand).resolves({ Items: [entry(1, 'TENANTS#DOMAIN', `t-1#${ID(1)}`)] });
    expect((await store().list({ limit: 1, search: { domainPrefix: 't', plan: 'Pro' } })).nextCursor).toBeNull();
  });

  it('ERR-VAL-400: a cursor for another search is refused before any read', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    const cursor = Buffer.from(`TENANTS#DOMAIN|acme#${ID(1)}`).toString('base64url');
    for (const search of [{ domainPrefix: 'beta' }, { namePrefix: 'acme' }, { status: 'Active' as const }, {}]) {
      const err = await store().list({ limit: 5, search, cursor }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('ERR-VAL-400');
    }
    expect(ddb.calls()).toEqual([]);
  });
});
