/**
 * DAT-FLAG storage (issue #5). In the tenant's partition:
 *
 *   SK `FLAG!VERSION`  entity FlagVersion  { version }                  one per tenant
 *   SK `FLAG#<key>`    entity Flag         { key, type, value, source } one per flag
 *
 * Both share the `FLAG` prefix, so the tenant's flags and their version are one Query. Every write of a
 * flag item changes the version item in the same TransactWriteItems, so a reader never pairs a version
 * with flags of another version, and a cache keyed on the version is never stale.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TenantFlags } from '../../domain/delivery-ports';
import { ConflictError, InternalError } from '../../domain/errors';
import { deliveredFlag, type FlagChanges, type FlagStore } from '../../domain/flags';
import type { FlagValue } from '../../domain/model';
import { decodeFlagItem, ENTITY, itemSchemas, toFlagItem } from './codecs';
import { translateDynamoError } from './errors';
import { keys, prefixEnd } from './keys';

type TransactItems = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>;

/** A transaction holds at most 100 items; one is the version item. */
const MAX_CHANGES = 99;
/** A multi-page read is retried when the version moved under it (see tenantFlags). */
const READ_ATTEMPTS = 3;

export class DynamoFlagStore implements FlagStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async tenantFlags(tenantId: string): Promise<TenantFlags> {
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
      const { version, flags, pages } = await this.readAll(tenantId);
      // One page is one consistent Query. Past 1 MB (hundreds of large flags) the pages are separate
      // reads: accept them only if the version, which every change bumps, did not move meanwhile.
      if (pages === 1 || (await this.version(tenantId)) === version) return { version, flags: flags.map(deliveredFlag) };
    }
    throw new ConflictError("The tenant's flags are changing too fast to read; retry.");
  }

  private async readAll(tenantId: string): Promise<{ version: number; flags: FlagValue[]; pages: number }> {
    let version = 0; // tenants provisioned before the version item existed: version 0 until their first change
    const flags: FlagValue[] = [];
    let start: Record<string, unknown> | undefined;
    let pages = 0;
    try {
      do {
        const out = await this.db.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'PK = :pk AND SK BETWEEN :sk AND :skEnd',
            ExpressionAttributeValues: { ':pk': keys.tenantPartition(tenantId), ':sk': keys.flagStatePrefix, ':skEnd': prefixEnd(keys.flagStatePrefix) },
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        pages++;
        for (const item of out.Items ?? []) {
          if (item['entity'] === ENTITY.flagVersion) version = this.decodeVersion(item);
          else if (item['entity'] === ENTITY.flag) flags.push(decodeFlagItem(item));
        }
        start = out.LastEvaluatedKey;
      } while (start);
    } catch (err) {
      throw translateDynamoError(err);
    }
    return { version, flags, pages };
  }

  private async version(tenantId: string): Promise<number> {
    try {
      const out = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.flagVersion(tenantId), ConsistentRead: true }));
      return out.Item === undefined ? 0 : this.decodeVersion(out.Item);
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  private decodeVersion(item: Record<string, unknown>): number {
    const r = itemSchemas.flagVersion.safeParse(item);
    if (!r.success) throw new InternalError('corrupt flag version item');
    return r.data.version;
  }

  async commit(tenantId: string, expectedVersion: number, changes: FlagChanges, at: string): Promise<number | undefined> {
    const next = expectedVersion + 1;
    const versionUpdate: TransactItems[number] = {
      Update: {
        TableName: this.table,
        Key: keys.flagVersion(tenantId),
        UpdateExpression: 'SET #v = :next, entity = :entity, tenantId = :tenant, updatedAt = :at',
        // Optimistic concurrency: the version read with the flags must still be current.
        ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(PK)' : '#v = :expected',
        ExpressionAttributeNames: { '#v': 'version' },
        ExpressionAttributeValues: {
          ':next': next,
          ':entity': ENTITY.flagVersion,
          ':tenant': tenantId,
          ':at': at,
          ...(expectedVersion === 0 ? {} : { ':expected': expectedVersion }),
        },
      },
    };
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: [versionUpdate, ...this.flagWrites(tenantId, changes)] }));
      return next;
    } catch (err) {
      if (err instanceof TransactionCanceledException && (err.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict')) {
        return undefined;
      }
      throw translateDynamoError(err);
    }
  }

  /**
   * The plan-change path (FR-TENANT-003 via settings-store.applyFlagChanges): it computed its changes
   * from a fresh read of the flags, but not under the version, so instead of a version condition each
   * write is conditioned on the flag still being a plan flag (or absent). An override set in between is
   * never clobbered: the transaction fails as a 409 and a retry of the plan change recomputes. The
   * version is incremented (ADD, which also creates it for tenants older than the version item).
   */
  async applyPlanChanges(tenantId: string, changes: FlagChanges, at: string): Promise<void> {
    if (changes.put.length === 0 && changes.remove.length === 0) return;
    const notOverride = { ConditionExpression: 'attribute_not_exists(PK) OR #source = :plan', ExpressionAttributeNames: { '#source': 'source' }, ExpressionAttributeValues: { ':plan': 'plan' } };
    const writes = this.flagWrites(tenantId, changes).map((w): TransactItems[number] =>
      w.Put ? { Put: { ...w.Put, ...notOverride } } : w.Delete ? { Delete: { ...w.Delete, ...notOverride } } : w,
    );
    const versionBump: TransactItems[number] = {
      Update: {
        TableName: this.table,
        Key: keys.flagVersion(tenantId),
        UpdateExpression: 'SET entity = :entity, tenantId = :tenant, updatedAt = :at ADD #v :one',
        ExpressionAttributeNames: { '#v': 'version' },
        ExpressionAttributeValues: { ':entity': ENTITY.flagVersion, ':tenant': tenantId, ':at': at, ':one': 1 },
      },
    };
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: [versionBump, ...writes] }));
    } catch (err) {
      throw translateDynamoError(err, [undefined, ...writes.map(() => ({ name: 'FlagOverridden', detail: 'A flag was overridden while the plan changed; retry the plan change.' }))]);
    }
  }

  private flagWrites(tenantId: string, changes: FlagChanges): TransactItems {
    if (changes.put.length + changes.remove.length > MAX_CHANGES) throw new InternalError(`flag change too large for one transaction: ${changes.put.length + changes.remove.length}`);
    for (const f of changes.put) if (f.tenantId !== tenantId) throw new InternalError('flag change for another tenant');
    return [
      ...changes.put.map((f): TransactItems[number] => ({ Put: { TableName: this.table, Item: toFlagItem(f) } })),
      ...changes.remove.map((key): TransactItems[number] => ({ Delete: { TableName: this.table, Key: keys.flag(tenantId, key) } })),
    ];
  }
}
