import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { InternalError, ValidationError } from '../../domain/errors';
import { TENANT_ROLES, USER_STATUSES, type Invitation, type TenantUser } from '../../domain/model';
import type { Page } from '../../domain/ports';
import type { UserAdminStore, UserFilter } from '../../domain/user-admin';
import { itemSchemas, toInvitationItem, toUserEmailItem, toUserItem, userFilterChanges } from './codecs';
import { translateDynamoError } from './errors';
import { keys, prefixEnd } from './keys';

type TransactItems = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>;

/** The status and role index writes of a user change, as transaction items (codecs.userFilterChanges). */
export function userFilterWrites(table: string, before: TenantUser | undefined, after: TenantUser | undefined): TransactItems {
  const { put, remove } = userFilterChanges(before, after);
  return [...remove.map((Key) => ({ Delete: { TableName: table, Key } })), ...put.map((Item) => ({ Put: { TableName: table, Item } }))];
}

const userView = z.object({
  id: z.string(),
  tenantId: z.string(),
  email: z.string(),
  role: z.enum(TENANT_ROLES),
  status: z.enum(USER_STATUSES),
  createdAt: z.string(),
});

function decodeUser(item: unknown): TenantUser {
  const r = userView.safeParse(item);
  if (!r.success) throw new InternalError('corrupt user item');
  return r.data;
}

const CURSOR = /^(USEREMAIL#|USERSTATUS#[A-Za-z]{1,20}#|USERROLE#[A-Za-z]{1,20}#)[^\s]{1,254}$/;

/** User administration over the single table; the email sentinel is the per-tenant user index. */
export class DynamoUserAdminStore implements UserAdminStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async listUsers(tenantId: string, f: UserFilter): Promise<Page<TenantUser>> {
    const pk = keys.tenantPartition(tenantId);
    // The key range that answers the filter with the least reading: a rare status (Invited, Disabled) or
    // a rare role (Owner, Administrator) has its own index; the other filter, if any, applies after.
    const by: 'status' | 'role' | 'email' =
      f.status && f.status !== 'Active' ? 'status' : f.role && f.role !== 'User' ? 'role' : f.status ? 'status' : f.role ? 'role' : 'email';
    const base = by === 'status' && f.status ? keys.userByStatusPrefix(f.status) : by === 'role' && f.role ? keys.userByRolePrefix(f.role) : keys.userEmailPrefix;
    let start: Record<string, string> | undefined;
    if (f.cursor !== undefined) {
      const sk = Buffer.from(f.cursor, 'base64url').toString('utf8');
      // A cursor belongs to the index (and so the filter) it came from.
      if (!CURSOR.test(sk) || !sk.startsWith(base)) throw new ValidationError('The cursor is not valid.', [{ location: 'query', pointer: '/cursor', detail: 'is not a cursor this API issued for this filter' }]);
      start = { PK: pk, SK: sk };
    }
    const filters: string[] = [];
    const emailRange = `${base}${f.emailPrefix ?? ''}`;
    const values: Record<string, string> = { ':pk': pk, ':sk': emailRange, ':skEnd': prefixEnd(emailRange) };
    const names: Record<string, string> = {};
    if (f.role && by !== 'role') {
      filters.push('#role = :role');
      names['#role'] = 'role';
      values[':role'] = f.role;
    }
    if (f.status && by !== 'status') {
      filters.push('#status = :status');
      names['#status'] = 'status';
      values[':status'] = f.status;
    }
    const found: { userId: string; sk: string; entry: Record<string, unknown> }[] = [];
    let last: Record<string, unknown> | undefined;
    // A filter rejects most entries when its value is rare: read bigger pages then (entries are small).
    const pageSize = filters.length > 0 ? 200 : f.limit;
    try {
      // Filters apply after the read: keep reading (bounded) until the page is full or the index ends.
      for (let rounds = 0; rounds < 10 && found.length < f.limit; rounds++) {
        const out = await this.db.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'PK = :pk AND SK BETWEEN :sk AND :skEnd',
            ExpressionAttributeValues: values,
            ...(filters.length > 0 ? { FilterExpression: filters.join(' AND '), ExpressionAttributeNames: names } : {}),
            Limit: pageSize,
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const i of out.Items ?? []) {
          if (found.length < f.limit) found.push({ userId: String(i['userId']), sk: String(i['SK']), entry: i });
        }
        last = out.LastEvaluatedKey;
        if (found.length >= f.limit) {
          const lastFound = found[found.length - 1]!;
          last = { PK: pk, SK: lastFound.sk };
          break;
        }
        if (!last) break;
        start = last as Record<string, string>;
      }
      // The index entry carries every field of a list row (toUserEmailItem); entries written before it did
      // are completed from the user items, in one batch.
      const fromIndex = new Map<string, TenantUser>();
      const incomplete: string[] = [];
      for (const x of found) {
        const r = userView.safeParse({ ...x.entry, id: x.userId });
        if (r.success) fromIndex.set(x.userId, r.data);
        else incomplete.push(x.userId);
      }
      const completed = incomplete.length > 0 ? await this.batchGetUsers(tenantId, incomplete) : [];
      for (const u of completed) fromIndex.set(u.id, u);
      const users = found.map((x) => fromIndex.get(x.userId)).filter((u): u is TenantUser => u !== undefined);
      const lastSk = last?.['SK'];
      return { items: users, nextCursor: typeof lastSk === 'string' ? Buffer.from(lastSk).toString('base64url') : null };
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  private async batchGetUsers(tenantId: string, userIds: string[]): Promise<TenantUser[]> {
    const byId = new Map<string, TenantUser>();
    for (let i = 0; i < userIds.length; i += 100) {
      let request: Record<string, unknown>[] = userIds.slice(i, i + 100).map((id) => ({ ...keys.user(tenantId, id) }));
      for (let attempt = 0; request.length > 0 && attempt < 8; attempt++) {
        const out = await this.db.send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys: request, ConsistentRead: true } } }));
        for (const item of out.Responses?.[this.table] ?? []) {
          const u = decodeUser(item);
          byId.set(u.id, u);
        }
        request = (out.UnprocessedKeys?.[this.table]?.Keys ?? []) as Record<string, unknown>[];
        if (request.length > 0) await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
      }
    }
    // Keep the index's email order.
    return userIds.map((id) => byId.get(id)).filter((u): u is TenantUser => u !== undefined);
  }

  async getUser(tenantId: string, userId: string): Promise<TenantUser | undefined> {
    try {
      const out = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.user(tenantId, userId), ConsistentRead: true }));
      return out.Item && out.Item['entity'] === 'User' ? decodeUser(out.Item) : undefined;
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  async countActiveOwners(tenantId: string): Promise<number> {
    try {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'PK = :pk AND SK BETWEEN :sk AND :skEnd',
          ExpressionAttributeValues: { ':pk': keys.tenantPartition(tenantId), ':sk': 'OWNER#', ':skEnd': prefixEnd('OWNER#') },
          Select: 'COUNT',
          ConsistentRead: true,
        }),
      );
      return out.Count ?? 0;
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  async invite(user: TenantUser, invitation: Invitation): Promise<void> {
    const items: TransactItems = [
      { Put: { TableName: this.table, Item: toUserItem(user), ConditionExpression: 'attribute_not_exists(PK)' } },
      { Put: { TableName: this.table, Item: toUserEmailItem(user), ConditionExpression: 'attribute_not_exists(PK)' } },
      { Put: { TableName: this.table, Item: toInvitationItem(invitation), ConditionExpression: 'attribute_not_exists(PK)' } },
      ...userFilterWrites(this.table, undefined, user),
    ];
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      throw translateDynamoError(err, [
        { name: 'UserIdTaken', detail: 'User id collision.' },
        { name: 'UserEmailTaken', detail: 'A user with this email already exists in the tenant.', issue: { location: 'body', pointer: '/email', detail: 'is already a user of the tenant' } },
        { name: 'InvitationIdTaken', detail: 'Invitation id collision.' },
      ]);
    }
  }

  async pendingInvitations(tenantId: string, userId: string): Promise<Invitation[]> {
    try {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'PK = :pk AND SK BETWEEN :sk AND :skEnd',
          FilterExpression: 'userId = :u AND #s = :pending',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':pk': keys.tenantPartition(tenantId), ':sk': 'INVITE#', ':skEnd': prefixEnd('INVITE#'), ':u': userId, ':pending': 'Pending' },
          ConsistentRead: true,
        }),
      );
      return (out.Items ?? []).map((i) => {
        const { entity: _e, ...inv } = itemSchemas.invitation.parse(i);
        return inv;
      });
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  async replaceInvitations(revoke: readonly Invitation[], next: Invitation): Promise<void> {
    const items: TransactItems = [
      ...revoke.map((inv) => ({
        Update: {
          TableName: this.table,
          Key: keys.invitation(inv.tenantId, inv.id),
          UpdateExpression: 'SET #s = :revoked',
          ConditionExpression: '#s = :pending',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':revoked': 'Revoked', ':pending': 'Pending' },
        },
      })),
      { Put: { TableName: this.table, Item: toInvitationItem(next), ConditionExpression: 'attribute_not_exists(PK)' } },
    ];
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      throw translateDynamoError(err, [...revoke.map(() => ({ name: 'InvitationChanged', detail: 'The invitation changed meanwhile; retry.' })), undefined]);
    }
  }

  async updateUser(before: TenantUser, after: TenantUser): Promise<void> {
    const wasOwner = before.role === 'Owner' && before.status === 'Active';
    const isOwner = after.role === 'Owner' && after.status === 'Active';
    const items: TransactItems = [
      {
        Update: {
          TableName: this.table,
          Key: keys.user(before.tenantId, before.id),
          UpdateExpression: 'SET #role = :r, #status = :s',
          ConditionExpression: '#role = :r0 AND #status = :s0',
          ExpressionAttributeNames: { '#role': 'role', '#status': 'status' },
          ExpressionAttributeValues: { ':r': after.role, ':s': after.status, ':r0': before.role, ':s0': before.status },
        },
      },
      { Put: { TableName: this.table, Item: toUserEmailItem(after) } },
      ...userFilterWrites(this.table, before, after),
    ];
    if (isOwner && !wasOwner) items.push({ Put: { TableName: this.table, Item: { ...keys.activeOwner(after.tenantId, after.id), entity: 'ActiveOwner', userId: after.id } } });
    if (wasOwner && !isOwner) items.push({ Delete: { TableName: this.table, Key: keys.activeOwner(after.tenantId, after.id) } });
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      throw translateDynamoError(err, [{ name: 'UserChanged', detail: 'The user changed meanwhile; reload and retry.' }]);
    }
  }

  async deleteUser(user: TenantUser): Promise<void> {
    const invites = await this.db
      .send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'PK = :pk AND SK BETWEEN :sk AND :skEnd',
          FilterExpression: 'userId = :u',
          ExpressionAttributeValues: { ':pk': keys.tenantPartition(user.tenantId), ':sk': 'INVITE#', ':skEnd': prefixEnd('INVITE#'), ':u': user.id },
          ProjectionExpression: 'PK, SK',
        }),
      )
      .catch((err: unknown) => {
        throw translateDynamoError(err);
      });
    const items: TransactItems = [
      { Delete: { TableName: this.table, Key: keys.user(user.tenantId, user.id), ConditionExpression: 'attribute_exists(PK)' } },
      { Delete: { TableName: this.table, Key: keys.userEmail(user.tenantId, user.email) } },
      { Delete: { TableName: this.table, Key: keys.activeOwner(user.tenantId, user.id) } },
      ...userFilterWrites(this.table, user, undefined),
      ...(invites.Items ?? []).slice(0, 88).map((i) => ({ Delete: { TableName: this.table, Key: { PK: String(i['PK']), SK: String(i['SK']) } } })),
    ];
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return;
      throw translateDynamoError(err, [{ name: 'UserGone', detail: 'The user was already deleted.' }]);
    }
  }
}
