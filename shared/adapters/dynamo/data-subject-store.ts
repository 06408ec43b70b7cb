import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import type { AuditRecord } from '../../domain/audit';
import type { AuditRewrite, DataSubjectStore, Erasure, ErasureCounts, SubjectProfile, SubjectRecords } from '../../domain/data-subject';
import { InternalError } from '../../domain/errors';
import { INVITATION_STATUSES, TENANT_ROLES, USER_STATUSES, type TenantUser } from '../../domain/model';
import { decodeAudit, ENTITY, toUserEmailItem } from './codecs';
import { userFilterWrites } from './user-admin-store';
import { deleteAll, queryAll } from './batch';
import { translateDynamoError, type NamedCondition } from './errors';
import { keys, prefixEnd, type ItemKey } from './keys';

type TransactItems = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>;

/*
 * The views below list only the fields a data subject receives. zod drops every other attribute while
 * decoding, so password, session, refresh and invitation/reset token hashes never leave this file.
 */
const profileView = z.object({
  id: z.string(),
  tenantId: z.string(),
  email: z.string(),
  role: z.enum(TENANT_ROLES),
  status: z.enum(USER_STATUSES),
  createdAt: z.string(),
  passwordChangedAt: z.string().nullable().default(null),
});

const sessionView = z.object({
  id: z.string(),
  status: z.enum(['Active', 'Revoked']),
  createdAt: z.string(),
  authTime: z.string(),
  amr: z.array(z.string()),
  lastSeenAt: z.string(),
  idleExpiresAt: z.string(),
  absoluteExpiresAt: z.string(),
  ip: z.string(),
  userAgent: z.string().nullable(),
  revokedReason: z.string().nullable().default(null),
});

const familyView = z.object({
  id: z.string(),
  clientId: z.string(),
  sessionId: z.string(),
  scope: z.string(),
  status: z.enum(['Active', 'Revoked']),
  createdAt: z.string(),
  absoluteExpiresAt: z.string(),
});

const invitationView = z.object({
  id: z.string(),
  email: z.string(),
  role: z.enum(TENANT_ROLES),
  status: z.enum(INVITATION_STATUSES),
  createdAt: z.string(),
  expiresAt: z.string(),
});

const resetView = z.object({
  id: z.string(),
  status: z.enum(['Pending', 'Used']),
  createdAt: z.string(),
  expiresAt: z.string(),
});

const ERASED_ENTITY = 'ErasedUser';
const counts = z.object({ sessions: z.number(), refreshFamilies: z.number(), codes: z.number(), invitations: z.number(), resets: z.number() });
const erasureItem = z.object({
  entity: z.literal(ERASED_ENTITY),
  tenantId: z.string(),
  userId: z.string(),
  pseudonymId: z.string(),
  erasedAt: z.string(),
  removed: counts,
  auditRecordsPseudonymised: z.number(),
});

function decode<T>(schema: z.ZodType<T>, item: unknown, what: string): T {
  const r = schema.safeParse(item);
  if (!r.success) throw new InternalError(`corrupt ${what} item: ${r.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  return r.data;
}

function asTenantUser(u: SubjectProfile): TenantUser {
  return { id: u.id, tenantId: u.tenantId, email: u.email, role: u.role, status: u.status, createdAt: u.createdAt };
}

/** Audit rewrites run this many updates at a time. */
const REWRITE_CONCURRENCY = 10;

const USER_CHANGED: NamedCondition = { name: 'UserChanged', detail: 'The user changed meanwhile; reload and retry.' };

/** Data subject rights over the single table: every read is a Query or Get in the user's tenant partition. */
export class DynamoDataSubjectStore implements DataSubjectStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async getProfile(tenantId: string, userId: string): Promise<SubjectProfile | undefined> {
    try {
      const out = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.user(tenantId, userId), ConsistentRead: true }));
      return out.Item && out.Item['entity'] === ENTITY.user ? decode(profileView, out.Item, 'user') : undefined;
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  async getErasure(tenantId: string, userId: string): Promise<Erasure | undefined> {
    try {
      const out = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.erasedUser(tenantId, userId), ConsistentRead: true }));
      if (!out.Item) return undefined;
      const { entity: _e, ...erasure } = decode(erasureItem, out.Item, 'erased user');
      return erasure;
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  async records(tenantId: string, userId: string): Promise<SubjectRecords> {
    const [sessions, families, invitations, resets] = await Promise.all([
      this.queryAll(tenantId, { prefix: keys.userSessionsPrefix(userId) }),
      this.queryAll(tenantId, { prefix: keys.userFamiliesPrefix(userId) }),
      this.queryAll(tenantId, { prefix: keys.invitationPrefix, userId }),
      this.queryAll(tenantId, { prefix: keys.passwordResetPrefix, userId }),
    ]);
    return {
      sessions: sessions.map((i) => decode(sessionView, i, 'session')),
      refreshFamilies: families.map((i) => decode(familyView, i, 'refresh family')),
      invitations: invitations.map((i) => decode(invitationView, i, 'invitation')),
      passwordResets: resets.map((i) => decode(resetView, i, 'password reset')),
    };
  }

  async auditRecordsAbout(tenantId: string, userId: string, sinceIso: string): Promise<AuditRecord[]> {
    // The filter still reads every record in the range (DynamoDB filters after the read); the range
    // starts at the user's creation, since no record about the user can be older.
    const items = await this.queryAll(tenantId, { since: sinceIso, filter: { expression: 'actorId = :u OR #res = :r', names: { '#res': 'resource' }, values: { ':u': userId, ':r': `user:${userId}` } } });
    return items.map(decodeAudit);
  }

  async changeEmail(user: SubjectProfile, email: string): Promise<void> {
    const invitations = await this.queryAll(user.tenantId, { prefix: keys.invitationPrefix, userId: user.id, keysOnly: true });
    // A transaction holds 100 items; resend (FR-TENANT-007) adds one invitation per call, so a user
    // with more than 93 (3 user items, 4 index entries) has been re-invited absurdly often: refuse rather than rewrite half of them.
    if (invitations.length > 93) throw new InternalError(`user ${user.id} has ${invitations.length} invitations; too many to rewrite in one transaction`);
    const next = asTenantUser({ ...user, email });
    const items: TransactItems = [
      { Put: { TableName: this.table, Item: toUserEmailItem(next), ConditionExpression: 'attribute_not_exists(PK)' } },
      {
        Delete: {
          TableName: this.table,
          Key: keys.userEmail(user.tenantId, user.email),
          ConditionExpression: 'userId = :u',
          ExpressionAttributeValues: { ':u': user.id },
        },
      },
      {
        Update: {
          TableName: this.table,
          Key: keys.user(user.tenantId, user.id),
          UpdateExpression: 'SET email = :new',
          // Role and status too: the new sentinel copies them (it is the user index), so they must be current.
          ConditionExpression: 'email = :old AND #role = :r AND #status = :s',
          ExpressionAttributeNames: { '#role': 'role', '#status': 'status' },
          ExpressionAttributeValues: { ':new': email, ':old': user.email, ':r': user.role, ':s': user.status },
        },
      },
      // An invitation's address must follow: accepting it updates the sentinel named by the invitation's email.
      ...invitations.map((i) => ({
        Update: {
          TableName: this.table,
          Key: { PK: String(i['PK']), SK: String(i['SK']) },
          UpdateExpression: 'SET email = :new',
          ConditionExpression: 'userId = :u',
          ExpressionAttributeValues: { ':new': email, ':u': user.id },
        },
      })),
      // Last: translateDynamoError names cancellation reasons by position, and these have no condition.
      ...userFilterWrites(this.table, asTenantUser(user), next),
    ];
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      throw translateDynamoError(err, [
        { name: 'UserEmailTaken', detail: 'A user with this email already exists in the tenant.', issue: { location: 'body', pointer: '/email', detail: 'is already a user of the tenant' } },
        USER_CHANGED,
        USER_CHANGED,
        ...invitations.map(() => USER_CHANGED),
      ]);
    }
  }

  async freeze(user: SubjectProfile): Promise<void> {
    const frozen = asTenantUser({ ...user, status: 'Disabled' });
    const items: TransactItems = [
      {
        Update: {
          TableName: this.table,
          Key: keys.user(user.tenantId, user.id),
          UpdateExpression: 'SET #status = :disabled',
          ConditionExpression: 'email = :e AND #role = :r AND #status = :s',
          ExpressionAttributeNames: { '#role': 'role', '#status': 'status' },
          ExpressionAttributeValues: { ':disabled': 'Disabled', ':e': user.email, ':r': user.role, ':s': user.status },
        },
      },
      { Put: { TableName: this.table, Item: toUserEmailItem(frozen) } },
      { Delete: { TableName: this.table, Key: keys.activeOwner(user.tenantId, user.id) } },
      ...userFilterWrites(this.table, asTenantUser(user), frozen),
    ];
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      throw translateDynamoError(err, [USER_CHANGED]);
    }
  }

  async deleteUserItems(tenantId: string, userId: string): Promise<ErasureCounts> {
    const [sessions, families, codes, invitations, resets] = await Promise.all([
      this.queryAll(tenantId, { prefix: keys.userSessionsPrefix(userId), keysOnly: true }),
      this.queryAll(tenantId, { prefix: keys.userFamiliesPrefix(userId), keysOnly: true }),
      this.queryAll(tenantId, { prefix: keys.authorizationCodePrefix, userId, keysOnly: true }),
      this.queryAll(tenantId, { prefix: keys.invitationPrefix, userId, keysOnly: true }),
      this.queryAll(tenantId, { prefix: keys.passwordResetPrefix, userId, keysOnly: true }),
    ]);
    await this.batchDelete([...sessions, ...families, ...codes, ...invitations, ...resets]);
    return { sessions: sessions.length, refreshFamilies: families.length, codes: codes.length, invitations: invitations.length, resets: resets.length };
  }

  async rewriteAudit(tenantId: string, sinceIso: string | null, rewrite: AuditRewrite): Promise<number> {
    let changed = 0;
    let start: Record<string, unknown> | undefined;
    try {
      // Page by page, so memory stays flat however long the tenant's audit log is.
      do {
        const out = await this.db.send(new QueryCommand({ TableName: this.table, ...this.range(tenantId, sinceIso === null ? { prefix: keys.tenantAuditPrefix } : { since: sinceIso }), ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
        const updates: { key: ItemKey; metadata: Record<string, unknown> }[] = [];
        for (const item of out.Items ?? []) {
          if (item['entity'] !== ENTITY.audit) continue;
          const metadata = rewrite(decodeAudit(item));
          if (metadata !== undefined) updates.push({ key: { PK: String(item['PK']), SK: String(item['SK']) }, metadata });
        }
        for (let i = 0; i < updates.length; i += REWRITE_CONCURRENCY) {
          await Promise.all(updates.slice(i, i + REWRITE_CONCURRENCY).map((u) => this.setMetadata(u.key, u.metadata)));
        }
        changed += updates.length;
        start = out.LastEvaluatedKey;
      } while (start);
    } catch (err) {
      throw translateDynamoError(err);
    }
    return changed;
  }

  async commitErasure(user: SubjectProfile, erasure: Erasure): Promise<void> {
    const items: TransactItems = [
      {
        Delete: {
          TableName: this.table,
          Key: keys.user(user.tenantId, user.id),
          // Still frozen and still this address: a concurrent re-enable or rectification aborts the erasure.
          ConditionExpression: 'email = :e AND #status = :disabled',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':e': user.email, ':disabled': 'Disabled' },
        },
      },
      {
        Delete: {
          TableName: this.table,
          Key: keys.userEmail(user.tenantId, user.email),
          ConditionExpression: 'attribute_not_exists(PK) OR userId = :u',
          ExpressionAttributeValues: { ':u': user.id },
        },
      },
      { Delete: { TableName: this.table, Key: keys.activeOwner(user.tenantId, user.id) } },
      {
        Put: {
          TableName: this.table,
          Item: { ...keys.erasedUser(erasure.tenantId, erasure.userId), entity: ERASED_ENTITY, ...erasure },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      },
      // The index entries carry the address in their keys: they go too (as frozen, and as given).
      ...[...new Set([keys.userByStatus(user.tenantId, 'Disabled', user.email).SK, keys.userByStatus(user.tenantId, user.status, user.email).SK, keys.userByRole(user.tenantId, user.role, user.email).SK])].map((SK) => ({
        Delete: { TableName: this.table, Key: { PK: keys.tenantPartition(user.tenantId), SK } },
      })),
    ];
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      throw translateDynamoError(err, [
        { name: 'UserChanged', detail: 'The user was changed during the erasure (re-enabled or rectified); retry the erasure.' },
        USER_CHANGED,
        undefined,
        { name: 'AlreadyErased', detail: 'The user has already been erased.' },
      ]);
    }
  }

  // --- helpers --------------------------------------------------------------------------------------

  private async setMetadata(key: ItemKey, metadata: Record<string, unknown>): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: key,
          UpdateExpression: 'SET metadata = :m',
          // Never resurrect a record a tenant purge removed meanwhile.
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeValues: { ':m': metadata },
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return;
      throw err;
    }
  }

  private range(tenantId: string, r: { prefix: string } | { since: string }): { KeyConditionExpression: string; ExpressionAttributeValues: Record<string, string> } {
    const pk = keys.tenantPartition(tenantId);
    if ('prefix' in r) return { KeyConditionExpression: 'PK = :pk AND SK BETWEEN :sk AND :skEnd', ExpressionAttributeValues: { ':pk': pk, ':sk': r.prefix, ':skEnd': prefixEnd(r.prefix) } };
    const { from, to } = keys.tenantAuditSince(r.since);
    return { KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to', ExpressionAttributeValues: { ':pk': pk, ':from': from, ':to': to } };
  }

  /**
   * Every item of a key range in the tenant's partition, all pages. `userId` filters to items naming the
   * user (for item kinds keyed by their own id); `keysOnly` reads back just PK and SK, for deletes.
   */
  private async queryAll(
    tenantId: string,
    q: ({ prefix: string } | { since: string }) & {
      userId?: string;
      keysOnly?: true;
      filter?: { expression: string; names: Record<string, string>; values: Record<string, string> };
    },
  ): Promise<Record<string, unknown>[]> {
    const range = this.range(tenantId, q);
    const filter = q.filter ?? (q.userId !== undefined ? { expression: 'userId = :u', names: {}, values: { ':u': q.userId } } : undefined);
    try {
      return await queryAll(this.db, {
        TableName: this.table,
        KeyConditionExpression: range.KeyConditionExpression,
        ExpressionAttributeValues: { ...range.ExpressionAttributeValues, ...(filter?.values ?? {}) },
        ...(filter ? { FilterExpression: filter.expression } : {}),
        ...(filter && Object.keys(filter.names).length > 0 ? { ExpressionAttributeNames: filter.names } : {}),
        ...(q.keysOnly ? { ProjectionExpression: 'PK, SK' } : {}),
        ConsistentRead: true,
      });
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  private async batchDelete(itemKeys: readonly Record<string, unknown>[]): Promise<void> {
    try {
      await deleteAll(this.db, this.table, itemKeys.map((k) => ({ PK: String(k['PK']), SK: String(k['SK']) })));
    } catch (err) {
      throw translateDynamoError(err);
    }
  }
}
