import { ConditionalCheckFailedException, DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { translateDynamoError } from '../../shared/adapters/dynamo/errors';
import { DynamoTenantStore } from '../../shared/adapters/dynamo/tenant-store';
import { AppError } from '../../shared/domain/errors';

// DynamoDB Local cannot throttle or fail on demand; these cases use aws-sdk-client-mock and assert the
// commands sent. Everything that can run against DynamoDB Local does (test/integration).
const ddb = mockClient(DynamoDBDocumentClient);
afterEach(() => ddb.reset());

function store(): DynamoTenantStore {
  return new DynamoTenantStore(DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-central-1' })), 'table-x');
}

describe('SDK errors become domain errors (handlers never see SDK exceptions)', () => {
  it('ERR-SYS-503: throttling on read is a 503, and the read was a consistent GetItem on the tenant key', async () => {
    ddb.on(GetCommand).rejects(Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' }));
    const err = await store().get('t-1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('ERR-SYS-503');
    const calls = ddb.commandCalls(GetCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({ TableName: 'table-x', Key: { PK: 'TENANT#t-1', SK: 'TENANT' }, ConsistentRead: true });
  });

  it('ERR-SYS-500: an unknown SDK failure is an internal error whose message stays internal', () => {
    const e = translateDynamoError(Object.assign(new Error('AccessDeniedException: arn:aws:iam::123:role/x'), { name: 'AccessDeniedException' }));
    expect(e.code).toBe('ERR-SYS-500');
    expect(e.expose).toBe(false);
    expect(e.detail).toBeUndefined();
  });

  it('ERR-VAL-409: a cancelled transaction names the failed condition by position', () => {
    const cancelled = new TransactionCanceledException({
      message: 'cancelled',
      $metadata: {},
      CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }],
    });
    const e = translateDynamoError(cancelled, [undefined, { name: 'TenantDomainTaken', detail: 'The tenant domain is already in use.', issue: { location: 'body', pointer: '/domain', detail: 'is already in use' } }]);
    expect(e.code).toBe('ERR-VAL-409');
    expect(e.issues).toEqual([{ location: 'body', pointer: '/domain', detail: 'is already in use' }]);
  });

  it('ERR-VAL-409: a transaction conflict with a concurrent writer asks for a retry', () => {
    const e = translateDynamoError(new TransactionCanceledException({ message: 'c', $metadata: {}, CancellationReasons: [{ Code: 'TransactionConflict' }] }));
    expect(e.code).toBe('ERR-VAL-409');
  });

  it('ERR-VAL-409: a plain conditional failure maps to the only named condition', () => {
    const e = translateDynamoError(new ConditionalCheckFailedException({ message: 'c', $metadata: {} }), [{ name: 'X', detail: 'exists' }]);
    expect(e.code).toBe('ERR-VAL-409');
    expect(e.detail).toBe('exists');
  });

  it('DAT-TENANT: provisioning sends one TransactWriteItems whose uniqueness items are conditional', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    await store().provision({
      tenant: { id: 't1', name: 'A', domain: 'acme', plan: 'Free', status: 'Active', homeRegion: 'eu-central-1', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' },
      owner: { id: 'u1', tenantId: 't1', email: 'o@a.example', role: 'Owner', status: 'Invited', createdAt: '2026-01-01T00:00:00.000Z' },
      invitation: { id: 'i1', tenantId: 't1', userId: 'u1', email: 'o@a.example', role: 'Owner', tokenHash: 'h', status: 'Pending', createdAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-01-08T00:00:00.000Z' },
      flags: [{ tenantId: 't1', key: 'f', value: true, source: 'plan', updatedAt: '2026-01-01T00:00:00.000Z' }],
    });
    const calls = ddb.commandCalls(TransactWriteCommand);
    expect(calls).toHaveLength(1);
    const items = calls[0]!.args[0].input.TransactItems ?? [];
    expect(items.map((i) => `${String(i.Put?.Item?.['PK'])}|${String(i.Put?.Item?.['SK'])}|${i.Put?.ConditionExpression ?? '-'}`)).toEqual([
      'TENANT#t1|TENANT|attribute_not_exists(PK)',
      'TENANTDOMAIN#acme|TENANTDOMAIN|attribute_not_exists(PK)',
      'TENANT#t1|USER#u1|attribute_not_exists(PK)',
      'TENANT#t1|USEREMAIL#o@a.example|attribute_not_exists(PK)',
      'TENANT#t1|INVITE#i1|attribute_not_exists(PK)',
      'TENANT#t1|FLAG#f|-',
      'TENANT#t1|FLAG!VERSION|-',
      // The search entries (keys.ts, TENANT SEARCH), in the same transaction as the tenant.
      'TENANT#t1|TENANTIDX#DOMAIN|-',
      'TENANT#t1|TENANTIDX#NAME|-',
      'TENANT#t1|TENANTIDX#STATUS|-',
      'TENANT#t1|TENANTIDX#PLAN|-',
      'TENANT#t1|TENANTIDX#STATUSPLAN|-',
      // The Owner's status and role index entries (user lists filtered by status or role).
      'TENANT#t1|USERSTATUS#Invited#o@a.example|-',
      'TENANT#t1|USERROLE#Owner#o@a.example|-',
    ]);
  });
});
