import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../domain/errors';
import type { Page, ProvisioningBundle, TenantSearch, TenantStore } from '../../domain/ports';
import type { Tenant } from '../../domain/tenant';
import {
  decodeTenant,
  decodeTenantListing,
  toFlagItem,
  toFlagVersionItem,
  toInvitationItem,
  toTenantDomainItem,
  toTenantItem,
  toTenantSearchItems,
  toUserEmailItem,
  toUserFilterItems,
  toUserItem,
} from './codecs';
import { deleteAll } from './batch';
import { translateDynamoError, type NamedCondition } from './errors';
import { keys, prefixEnd, tenantNameSearchKey, type TenantSearchKind } from './keys';

const NOT_EXISTS = 'attribute_not_exists(PK)';

/**
 * A search that filters (a prefix combined with status/plan) reads this many index entries per Query and
 * at most MAX_READS Queries per request: at most ~1,000 entries (~0.5 MB) per page, whatever the
 * selectivity. The client then gets a short (even empty) page and a cursor to carry on from.
 */
const FILTERED_READ = 200;
const MAX_READS = 5;

type TransactItems = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>;

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
      // The flag version starts at 1 with the plan's flags (issue #5): the first delivery has an ETag basis.
      { item: toFlagVersionItem(tenant.id, 1, tenant.createdAt) },
      // In the same transaction: a tenant is findable by search exactly when it exists.
      ...toTenantSearchItems(tenant).map((item) => ({ item })),
      ...toUserFilterItems(owner).map((item) => ({ item })),
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

  async list(options: { limit: number; cursor?: string | undefined; search?: TenantSearch | undefined }): Promise<Page<Tenant>> {
    const plan = planQuery(options.search ?? {});
    let start = options.cursor === undefined ? undefined : decodeCursor(options.cursor, plan);
    const items: Tenant[] = [];
    try {
      for (let reads = 1; ; reads++) {
        const remaining = options.limit - items.length;
        const out = await this.db.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: 'GSI1',
            ...plan.query,
            // Limit counts entries read, before the filter: read more when a filter may drop most of them.
            Limit: plan.query.FilterExpression === undefined ? remaining : Math.max(FILTERED_READ, remaining),
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        const page = out.Items ?? [];
        for (const [i, item] of page.entries()) {
          items.push(decodeTenantListing(item));
          if (items.length === options.limit) {
            // Stopped inside a page: the cursor is the last item returned, not where the read ended.
            const more = i < page.length - 1 || out.LastEvaluatedKey !== undefined;
            return { items, nextCursor: more ? encodeCursor(plan, item['GSI1SK']) : null };
          }
        }
        const last = out.LastEvaluatedKey;
        if (last === undefined) return { items, nextCursor: null };
        if (reads >= MAX_READS) return { items, nextCursor: encodeCursor(plan, last['GSI1SK']) };
        start = last;
      }
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  async save(tenant: Tenant, previous: Tenant): Promise<void> {
    const items: TransactItems = [
      {
        Put: {
          TableName: this.tableName,
          Item: toTenantItem(tenant),
          ConditionExpression: 'updatedAt = :u',
          ExpressionAttributeValues: { ':u': previous.updatedAt },
        },
      },
      // The search entries are copies of the tenant: rewritten with it, under its condition, or not at all.
      ...toTenantSearchItems(tenant).map((Item) => ({ Put: { TableName: this.tableName, Item } })),
    ];
    if (tenant.status === 'PendingDeletion' && tenant.deletion && previous.status !== 'PendingDeletion') {
      items.push({ Put: { TableName: this.tableName, Item: { ...keys.purgeQueue(tenant.deletion.purgeAfter, tenant.id), entity: 'PurgeQueue', tenantId: tenant.id } } });
    }
    if (previous.status === 'PendingDeletion' && previous.deletion && tenant.status !== 'PendingDeletion') {
      items.push({ Delete: { TableName: this.tableName, Key: keys.purgeQueue(previous.deletion.purgeAfter, tenant.id) } });
    }
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      throw translateDynamoError(err, [{ name: 'TenantChanged', detail: 'The tenant changed concurrently; retry.' }]);
    }
  }

  async purgeDue(now: Date, limit: number): Promise<string[]> {
    try {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND SK <= :upto',
          ExpressionAttributeValues: { ':pk': keys.purgeQueuePartition, ':upto': `Q#${now.toISOString()}~` },
          Limit: limit,
        }),
      );
      return (out.Items ?? []).map((i) => String(i['tenantId']));
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  async isPurged(tenantId: string): Promise<boolean> {
    try {
      const out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: keys.purgedTenant(tenantId), ConsistentRead: true }));
      return out.Item !== undefined;
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  /**
   * Order matters for resumability: first the tombstone (it remembers the domain and the queue entry),
   * then every item of the partition, then the sentinels outside it, last the queue entry. Interrupted
   * anywhere, the next run finds the tombstone and carries on; run twice, it deletes nothing more.
   * The search entries live in the partition, so the walk removes them; they go first all the same, so
   * that a purge interrupted mid-walk does not leave a tenant findable by search whose item is gone.
   */
  async purge(tenantId: string, now: Date): Promise<{ deletedItems: number; domain: string | null }> {
    try {
      const tombKey = keys.purgedTenant(tenantId);
      const existing = (await this.db.send(new GetCommand({ TableName: this.tableName, Key: tombKey, ConsistentRead: true }))).Item;
      let domain = typeof existing?.['domain'] === 'string' ? existing['domain'] : null;
      let purgeAfter = typeof existing?.['purgeAfter'] === 'string' ? existing['purgeAfter'] : null;
      if (!existing) {
        const tenant = await this.get(tenantId);
        if (!tenant) return { deletedItems: 0, domain: null };
        domain = tenant.domain;
        purgeAfter = tenant.deletion?.purgeAfter ?? null;
        await this.db.send(new PutCommand({ TableName: this.tableName, Item: { ...tombKey, entity: 'PurgedTenant', tenantId, domain, purgeAfter, purgeStartedAt: now.toISOString() } }));
      }
      let deleted = 0;
      const entries = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND SK BETWEEN :idx AND :idxEnd',
          ExpressionAttributeValues: { ':pk': keys.tenantPartition(tenantId), ':idx': keys.tenantSearchEntryPrefix, ':idxEnd': prefixEnd(keys.tenantSearchEntryPrefix) },
          ProjectionExpression: 'PK, SK',
          ConsistentRead: true,
        }),
      );
      const entryKeys = (entries.Items ?? []).map((i) => ({ PK: String(i['PK']), SK: String(i['SK']) }));
      if (entryKeys.length > 0) deleted += await deleteAll(this.db, this.tableName, entryKeys);
      for (;;) {
        const page = await this.db.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'PK = :pk',
            ExpressionAttributeValues: { ':pk': keys.tenantPartition(tenantId) },
            ProjectionExpression: 'PK, SK',
            ConsistentRead: true,
            Limit: 100,
          }),
        );
        const itemKeys = (page.Items ?? []).map((i) => ({ PK: String(i['PK']), SK: String(i['SK']) }));
        if (itemKeys.length === 0) break;
        deleted += await deleteAll(this.db, this.tableName, itemKeys);
      }
      if (domain) await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: keys.tenantDomain(domain), ConditionExpression: 'attribute_not_exists(PK) OR tenantId = :t', ExpressionAttributeValues: { ':t': tenantId } })).catch((err: unknown) => {
        // Someone else owns the domain by now (it was free for reuse): theirs to keep.
        if (!(err instanceof Error && err.name === 'ConditionalCheckFailedException')) throw err;
      });
      if (purgeAfter) await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: keys.purgeQueue(purgeAfter, tenantId) }));
      await this.db.send(new PutCommand({ TableName: this.tableName, Item: { ...tombKey, entity: 'PurgedTenant', tenantId, domain, purgeAfter, purgedAt: now.toISOString() } }));
      return { deletedItems: deleted, domain };
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  async rebuildSearchIndex(options: { limit: number; cursor?: string | undefined }): Promise<{ rebuilt: number; nextCursor: string | null }> {
    const page = await this.list({ limit: options.limit, cursor: options.cursor });
    let rebuilt = 0;
    for (const tenant of page.items) {
      try {
        await this.db.send(
          new TransactWriteCommand({
            TransactItems: [
              // Only over the tenant as read: a concurrent save wrote fresh entries itself, and a purged
              // tenant must not get entries back.
              { ConditionCheck: { TableName: this.tableName, Key: keys.tenant(tenant.id), ConditionExpression: 'updatedAt = :u', ExpressionAttributeValues: { ':u': tenant.updatedAt } } },
              ...toTenantSearchItems(tenant).map((Item) => ({ Put: { TableName: this.tableName, Item } })),
            ],
          }),
        );
        rebuilt++;
      } catch (err) {
        const lostRace = err instanceof TransactionCanceledException && err.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed';
        if (!lostRace) throw translateDynamoError(err);
      }
    }
    return { rebuilt, nextCursor: page.nextCursor };
  }
}

interface QueryPlan {
  /** Which entries are queried: the tenant items ('CREATED') or one kind of search entry. */
  readonly kind: 'CREATED' | TenantSearchKind;
  readonly partition: string;
  /** The GSI1SK prefix of the prefix searches (a BETWEEN range, see prefixEnd); a cursor must lie inside it. */
  readonly skPrefix?: string;
  readonly query: Pick<QueryCommandInput, 'KeyConditionExpression' | 'FilterExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>;
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}

/**
 * Picks the index entries that answer the search with the least reading (keys.ts, TENANT SEARCH): a
 * prefix narrows most, so it is the key condition and status/plan/a second prefix become filters;
 * status and plan alone are exact partitions; nothing is the plain listing.
 */
function planQuery(search: TenantSearch): QueryPlan {
  const domainPrefix = nonEmpty(search.domainPrefix?.toLowerCase());
  const namePrefix = nonEmpty(search.namePrefix === undefined ? undefined : tenantNameSearchKey(search.namePrefix));
  const { status, plan } = search;
  let range: { kind: 'DOMAIN' | 'NAME'; partition: string; skPrefix: string };
  if (domainPrefix !== undefined) range = { kind: 'DOMAIN', partition: keys.tenantSearchPartitions.domain, skPrefix: domainPrefix };
  else if (namePrefix !== undefined) range = { kind: 'NAME', partition: keys.tenantSearchPartitions.name, skPrefix: keys.tenantNameSearchPrefix(namePrefix) };
  else {
    const [kind, partition] =
      status && plan
        ? (['STATUSPLAN', keys.tenantSearchPartitions.statusPlan(status, plan)] as const)
        : status
          ? (['STATUS', keys.tenantSearchPartitions.status(status)] as const)
          : plan
            ? (['PLAN', keys.tenantSearchPartitions.plan(plan)] as const)
            : (['CREATED', keys.tenantIndexPartition] as const);
    return { kind, partition, query: { KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': partition } } };
  }
  const { kind, partition, skPrefix } = range;
  const filters: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, string> = { ':pk': partition, ':prefix': skPrefix, ':prefixEnd': prefixEnd(skPrefix) };
  if (kind === 'DOMAIN' && namePrefix !== undefined) {
    filters.push('begins_with(#searchName, :name)');
    names['#searchName'] = 'searchName';
    values[':name'] = namePrefix;
  }
  if (status) {
    filters.push('#status = :status');
    names['#status'] = 'status';
    values[':status'] = status;
  }
  if (plan) {
    filters.push('#plan = :plan');
    names['#plan'] = 'plan';
    values[':plan'] = plan;
  }
  return {
    kind,
    partition,
    skPrefix,
    query: {
      KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK BETWEEN :prefix AND :prefixEnd',
      ExpressionAttributeValues: values,
      ...(filters.length > 0 ? { FilterExpression: filters.join(' AND '), ExpressionAttributeNames: names } : {}),
    },
  };
}

const BY_AGE = /^\d{4}-\d{2}-\d{2}T[\d:.]+Z#[0-9a-f-]{36}$/;
/** The shape of each kind's GSI1SK; a cursor whose sort key does not fit was not issued by us. */
const SORT_KEY_PATTERN: Record<QueryPlan['kind'], RegExp> = {
  CREATED: BY_AGE,
  STATUS: BY_AGE,
  PLAN: BY_AGE,
  STATUSPLAN: BY_AGE,
  DOMAIN: /^[a-z0-9-]{1,63}#[0-9a-f-]{36}$/,
  // The escaped name never contains '#' (keys.ts).
  NAME: /^[^#]+#[0-9a-f-]{36}$/,
};

/**
 * The cursor carries the GSI1 partition it belongs to and the last sort key, nothing else: the adapter
 * rebuilds the full start key from them and checks both against the search it is running, so a forged
 * or foreign cursor cannot aim the query at any other partition or outside the prefix. The plain listing
 * keeps its earlier format (the sort key alone), so cursors handed out before searches existed still work.
 */
function encodeCursor(plan: QueryPlan, gsi1sk: unknown): string {
  if (typeof gsi1sk !== 'string') throw new Error('tenant index entry without GSI1SK');
  return Buffer.from(plan.kind === 'CREATED' ? gsi1sk : `${plan.partition}|${gsi1sk}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string, plan: QueryPlan): Record<string, string> {
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  const sep = raw.indexOf('|');
  const [partition, sk] = plan.kind === 'CREATED' ? [plan.partition, raw] : sep < 0 ? ['', ''] : [raw.slice(0, sep), raw.slice(sep + 1)];
  const fits = partition === plan.partition && SORT_KEY_PATTERN[plan.kind].test(sk) && (plan.skPrefix === undefined || sk.startsWith(plan.skPrefix));
  if (!fits) {
    throw new ValidationError('The cursor is not valid.', [{ location: 'query', pointer: '/cursor', detail: 'is not a cursor this API issued for this search' }]);
  }
  const tenantId = sk.slice(sk.lastIndexOf('#') + 1);
  const base = plan.kind === 'CREATED' ? keys.tenant(tenantId) : keys.tenantSearchEntry(tenantId, plan.kind);
  return { ...base, GSI1PK: plan.partition, GSI1SK: sk };
}
