import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { InternalError, ValidationError } from '../../domain/errors';
import { APP_ENVIRONMENTS, CLIENT_CACHE_SECONDS, CLIENT_TYPES, GRANT_TYPES, type ManagedApp } from '../../domain/identity/apps';
import type { AuthorizationCode, AuthorizationRequest, LoginUser, PasswordReset, RefreshFamily, Session } from '../../domain/identity/model';
import type { IdentityStore, LiveExtras, LiveIds, LiveItems, LoginCandidate } from '../../domain/identity/ports';
import { TENANT_ROLES, type Invitation, type TenantUser } from '../../domain/model';
import { userFilterWrites } from './user-admin-store';
import type { Page } from '../../domain/ports';
import type { Tenant } from '../../domain/tenant';
import { decodeTenant, ENTITY, itemSchemas } from './codecs';
import { queryAll } from './batch';
import { translateDynamoError } from './errors';
import { keys, prefixEnd } from './keys';
import { transactWrite } from './transact';

/**
 * The token path's view of applications (`getAppForGrant`), per execution environment, keyed by table
 * and client id. Writes through any store of this process drop the entry, so in local mode (one process)
 * a disabled app is refused at once; another Lambda environment sees it within CLIENT_CACHE_SECONDS.
 */
const clientCache = new Map<string, { app: ManagedApp; until: number }>();
const CLIENT_CACHE_MAX_ENTRIES = 10_000;
/** Bumped by every write of the app in this process: a read that overlapped a write is not cached. */
let clientWrites = 0;

function forgetClient(key: string): void {
  clientWrites++;
  clientCache.delete(key);
}

const epoch = (iso: string): number => Math.floor(Date.parse(iso) / 1000);
/** Kept a day past expiry so late requests get "expired"/"reused" rather than "unknown". */
const ttlAfter = (iso: string, graceSeconds = 86_400): number => epoch(iso) + graceSeconds;

const codeRecord = (c: AuthorizationCode): Record<string, unknown> => ({ ...keys.authorizationCode(c.tenantId, c.hash), entity: 'AuthorizationCode', ...c, ttl: ttlAfter(c.expiresAt) });

/**
 * The sign-in's domain → tenant id lookups, per execution environment, keyed by table and domain. A domain
 * names one tenant for that tenant's whole life and is freed only by its purge, and tenant ids are never
 * reused; so an entry can only go stale by pointing at a purged tenant, whose item is then missing, and
 * findLoginCandidate reads the domain again in that case. Nothing that could let a request in is cached:
 * the tenant (its status), the enablement and the user are read, consistently, on every sign-in.
 */
const domainCache = new Map<string, { tenantId: string; until: number }>();
const DOMAIN_CACHE_SECONDS = 300;
const DOMAIN_CACHE_MAX_ENTRIES = 10_000;

const appItem = z.object({
  id: z.string(),
  name: z.string(),
  environment: z.enum(APP_ENVIRONMENTS),
  clientType: z.enum(CLIENT_TYPES),
  grantTypes: z.array(z.enum(GRANT_TYPES)),
  redirectUris: z.array(z.string()),
  postLogoutRedirectUris: z.array(z.string()),
  status: z.enum(['Active', 'Disabled']),
  ownerId: z.string(),
  secrets: z.array(z.object({ hash: z.string(), createdAt: z.string(), expiresAt: z.string().nullable() })),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const userItem = z.object({
  id: z.string(),
  tenantId: z.string(),
  email: z.string(),
  role: z.enum(TENANT_ROLES),
  status: z.enum(['Invited', 'Active', 'Disabled']),
  passwordHash: z.string().nullable().default(null),
  passwordChangedAt: z.string().nullable().default(null),
});

const authzRequestItem = z.object({
  id: z.string(),
  clientId: z.string(),
  redirectUri: z.string(),
  scope: z.string(),
  state: z.string().nullable(),
  nonce: z.string().nullable(),
  codeChallenge: z.string(),
  maxAge: z.number().nullable(),
  prompt: z.literal('login').nullable(),
  tenantDomain: z.string().nullable(),
  loginHint: z.string().nullable(),
  createdAt: z.string(),
  expiresAt: z.string(),
});

const sessionItem = z.object({
  id: z.string(),
  tenantId: z.string(),
  userId: z.string(),
  status: z.enum(['Active', 'Revoked']),
  secretHash: z.string(),
  authTime: z.string(),
  amr: z.array(z.string()),
  createdAt: z.string(),
  lastSeenAt: z.string(),
  idleExpiresAt: z.string(),
  absoluteExpiresAt: z.string(),
  ip: z.string(),
  userAgent: z.string().nullable(),
  revokedReason: z.string().nullable(),
});

const codeItem = z.object({
  hash: z.string(),
  tenantId: z.string(),
  clientId: z.string(),
  redirectUri: z.string(),
  codeChallenge: z.string(),
  userId: z.string(),
  sessionId: z.string(),
  scope: z.string(),
  nonce: z.string().nullable(),
  authTime: z.string(),
  amr: z.array(z.string()),
  expiresAt: z.string(),
  status: z.enum(['Unused', 'Used']),
  issuedFamilyId: z.string().nullable(),
  issuedAccessTokenJti: z.string().nullable(),
  issuedAccessTokenExp: z.string().nullable(),
});

const familyItem = z.object({
  id: z.string(),
  tenantId: z.string(),
  clientId: z.string(),
  userId: z.string(),
  sessionId: z.string(),
  scope: z.string(),
  authTime: z.string(),
  amr: z.array(z.string()),
  currentHash: z.string(),
  previousHashes: z.array(z.string()),
  generation: z.number(),
  status: z.enum(['Active', 'Revoked']),
  createdAt: z.string(),
  absoluteExpiresAt: z.string(),
});

const resetItem = z.object({
  id: z.string(),
  tenantId: z.string(),
  userId: z.string(),
  tokenHash: z.string(),
  status: z.enum(['Pending', 'Used']),
  createdAt: z.string(),
  expiresAt: z.string(),
});

function decode<T>(schema: z.ZodType<T>, item: unknown, what: string): T {
  const r = schema.safeParse(item);
  if (!r.success) throw new InternalError(`corrupt ${what} item: ${r.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  return r.data;
}

/** Only the entity's own fields survive decoding: key attributes and bookkeeping are dropped by zod. */
const APP_CURSOR = /^\d{4}-\d{2}-\d{2}T[\d:.]+Z#[0-9a-f-]{36}$/;
/**
 * How many rotated refresh-token hashes a family keeps for reuse detection (RFC 9700 §4.14.2). 20 keeps the
 * item near 1 KB, one or two write units per rotation; an older token is refused but cannot be told from a
 * forgery, so it does not revoke the family (doc/identity.md).
 */
const MAX_PREVIOUS_HASHES = 20;

export class DynamoIdentityStore implements IdentityStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    /** Milliseconds since the epoch, for the client cache only; tests move it. */
    private readonly clockMs: () => number = Date.now,
  ) {}

  private async get(key: { PK: string; SK: string }): Promise<Record<string, unknown> | undefined> {
    try {
      const out = await this.db.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
      return out.Item;
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  private async put(item: Record<string, unknown>, condition?: string, conflict?: string): Promise<void> {
    try {
      await this.db.send(new PutCommand({ TableName: this.table, Item: item, ...(condition ? { ConditionExpression: condition } : {}) }));
    } catch (err) {
      throw translateDynamoError(err, conflict ? [{ name: 'Conflict', detail: conflict }] : []);
    }
  }

  // --- apps ---------------------------------------------------------------------------------------
  async createApp(app: ManagedApp): Promise<void> {
    forgetClient(`${this.table}|${app.id}`);
    await this.put({ ...keys.app(app.id), ...keys.appIndex(app.createdAt, app.id), entity: 'App', ...app }, 'attribute_not_exists(PK)', 'Application id collision.');
  }

  async getApp(appId: string): Promise<ManagedApp | undefined> {
    const item = await this.get(keys.app(appId));
    return item ? decode(appItem, item, 'app') : undefined;
  }

  async getAppForGrant(appId: string): Promise<ManagedApp | undefined> {
    const key = `${this.table}|${appId}`;
    const now = this.clockMs();
    const hit = clientCache.get(key);
    if (hit && hit.until > now) return hit.app;
    const writesBefore = clientWrites;
    const app = await this.getApp(appId);
    // Positive results only: an unknown client id is read every time, so a client registered a moment
    // ago works at once and a flood of made-up ids cannot crowd real clients out of the cache. A read
    // that overlapped a write of an app in this process may hold the old record: answer it, keep nothing.
    if (app && clientWrites === writesBefore) {
      if (clientCache.size >= CLIENT_CACHE_MAX_ENTRIES) clientCache.delete(clientCache.keys().next().value as string);
      clientCache.set(key, { app, until: now + CLIENT_CACHE_SECONDS * 1000 });
    } else if (!app) clientCache.delete(key);
    return app;
  }

  async listApps(options: { limit: number; cursor?: string | undefined }): Promise<Page<ManagedApp>> {
    let start: Record<string, string> | undefined;
    if (options.cursor !== undefined) {
      const raw = Buffer.from(options.cursor, 'base64url').toString('utf8');
      if (!APP_CURSOR.test(raw)) throw new ValidationError('The cursor is not valid.', [{ location: 'query', pointer: '/cursor', detail: 'is not a cursor this API issued' }]);
      const id = raw.slice(raw.indexOf('#') + 1);
      start = { ...keys.app(id), GSI1PK: keys.appIndexPartition, GSI1SK: raw };
    }
    try {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'GSI1',
          KeyConditionExpression: 'GSI1PK = :pk',
          ExpressionAttributeValues: { ':pk': keys.appIndexPartition },
          Limit: options.limit,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      const last = out.LastEvaluatedKey?.['GSI1SK'];
      return { items: (out.Items ?? []).map((i) => decode(appItem, i, 'app')), nextCursor: typeof last === 'string' ? Buffer.from(last).toString('base64url') : null };
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  async saveApp(app: ManagedApp, expectedUpdatedAt: string): Promise<void> {
    // Before and after the write; reads overlapping it see the counter move and cache nothing.
    forgetClient(`${this.table}|${app.id}`);
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...keys.app(app.id), ...keys.appIndex(app.createdAt, app.id), entity: 'App', ...app },
          ConditionExpression: 'updatedAt = :u',
          ExpressionAttributeValues: { ':u': expectedUpdatedAt },
        }),
      );
    } catch (err) {
      throw translateDynamoError(err, [{ name: 'AppChanged', detail: 'The application changed concurrently; retry.' }]);
    } finally {
      forgetClient(`${this.table}|${app.id}`);
    }
  }

  async setAppEnabledForTenant(tenantId: string, appId: string, enabled: boolean, at: string): Promise<void> {
    try {
      if (enabled) await this.db.send(new PutCommand({ TableName: this.table, Item: { ...keys.tenantApp(tenantId, appId), entity: 'TenantApp', tenantId, appId, enabledAt: at } }));
      else await this.db.send(new DeleteCommand({ TableName: this.table, Key: keys.tenantApp(tenantId, appId) }));
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  async isAppEnabledForTenant(tenantId: string, appId: string): Promise<boolean> {
    return (await this.get(keys.tenantApp(tenantId, appId))) !== undefined;
  }

  async listTenantApps(tenantId: string): Promise<string[]> {
    try {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'PK = :pk AND SK BETWEEN :sk AND :skEnd',
          ExpressionAttributeValues: { ':pk': keys.tenantPartition(tenantId), ':sk': 'APP#', ':skEnd': prefixEnd('APP#') },
        }),
      );
      return (out.Items ?? []).map((i) => String(i['appId']));
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  /**
   * One consistent BatchGetItem (retrying unprocessed keys): a lookup function from key to item, so
   * callers name what they asked for instead of scanning the response.
   */
  private async consistentBatch(wanted: readonly { PK: string; SK: string }[], purpose: string): Promise<(k: { PK: string; SK: string } | undefined) => Record<string, unknown> | undefined> {
    const found = new Map<string, Record<string, unknown>>();
    let request: Record<string, unknown>[] = wanted.map((k) => ({ PK: k.PK, SK: k.SK }));
    try {
      for (let attempt = 0; request.length > 0; attempt++) {
        if (attempt > 6) throw new InternalError(`${purpose}: unprocessed keys after retries`);
        if (attempt > 0) await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
        const out = await this.db.send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys: request, ConsistentRead: true } } }));
        for (const item of out.Responses?.[this.table] ?? []) found.set(`${String(item['PK'])}|${String(item['SK'])}`, item);
        request = (out.UnprocessedKeys?.[this.table]?.Keys ?? []) as Record<string, unknown>[];
      }
    } catch (err) {
      throw translateDynamoError(err);
    }
    return (k) => (k ? found.get(`${k.PK}|${k.SK}`) : undefined);
  }

  async findLoginCandidate(domain: string, appId: string, email: string | null): Promise<LoginCandidate> {
    const cacheKey = `${this.table}|${domain}`;
    const cached = domainCache.get(cacheKey);
    if (cached && cached.until > this.clockMs()) {
      const found = await this.loginCandidateOf(cached.tenantId, appId, email);
      if (found.tenant) return found;
      domainCache.delete(cacheKey); // purged since: the domain may name another tenant by now
    }
    const sentinel = await this.get(keys.tenantDomain(domain));
    const tenantId = sentinel?.['tenantId'];
    if (typeof tenantId !== 'string') return { tenant: undefined, enabled: false, user: undefined };
    if (domainCache.size >= DOMAIN_CACHE_MAX_ENTRIES) domainCache.delete(domainCache.keys().next().value as string);
    domainCache.set(cacheKey, { tenantId, until: this.clockMs() + DOMAIN_CACHE_SECONDS * 1000 });
    return this.loginCandidateOf(tenantId, appId, email);
  }

  private async loginCandidateOf(tenantId: string, appId: string, email: string | null): Promise<LoginCandidate> {
    const wanted = { tenant: keys.tenant(tenantId), enabled: keys.tenantApp(tenantId, appId), ...(email !== null ? { email: keys.userEmail(tenantId, email) } : {}) };
    const at = await this.consistentBatch(Object.values(wanted), 'sign-in read');
    const tenantRaw = at(wanted.tenant);
    const userId = 'email' in wanted ? at(wanted.email)?.['userId'] : undefined;
    return {
      tenant: tenantRaw ? decodeTenant(tenantRaw) : undefined,
      enabled: at(wanted.enabled) !== undefined,
      user: typeof userId === 'string' ? await this.getUser(tenantId, userId) : undefined,
    };
  }

  async loadLiveContext(ids: LiveIds, extra: LiveExtras = {}): Promise<LiveItems> {
    const wanted = {
      tenant: keys.tenant(ids.tenantId),
      user: keys.user(ids.tenantId, ids.userId),
      session: keys.session(ids.tenantId, ids.userId, ids.sessionId),
      enabled: keys.tenantApp(ids.tenantId, ids.clientId),
      ...(extra.knownApp ? {} : { app: keys.app(ids.clientId) }),
      ...(extra.familyId !== undefined ? { family: keys.refreshFamily(ids.tenantId, ids.userId, extra.familyId) } : {}),
      ...(extra.accessTokenJti !== undefined ? { revoked: keys.revokedAccessToken(ids.tenantId, extra.accessTokenJti) } : {}),
    };
    // Consistent reads: a revocation or suspension a moment ago must be seen now (FR-OPS-001).
    const at = await this.consistentBatch(Object.values(wanted), 'liveness read');
    const userItemRaw = at(wanted.user);
    const appRaw = 'app' in wanted ? at(wanted.app) : undefined;
    const familyRaw = 'family' in wanted ? at(wanted.family) : undefined;
    return {
      tenant: at(wanted.tenant) ? decodeTenant(at(wanted.tenant)) : undefined,
      user: userItemRaw && userItemRaw['entity'] === ENTITY.user ? decode(userItem, userItemRaw, 'user') : undefined,
      app: extra.knownApp ?? (appRaw ? decode(appItem, appRaw, 'app') : undefined),
      session: at(wanted.session) ? decode(sessionItem, at(wanted.session), 'session') : undefined,
      enabled: at(wanted.enabled) !== undefined,
      family: familyRaw ? decode(familyItem, familyRaw, 'refresh family') : undefined,
      accessTokenRevoked: 'revoked' in wanted && at(wanted.revoked) !== undefined,
    };
  }

  // --- tenants and users --------------------------------------------------------------------------
  async findTenantByDomain(domain: string): Promise<Tenant | undefined> {
    const sentinel = await this.get(keys.tenantDomain(domain));
    const tenantId = sentinel?.['tenantId'];
    return typeof tenantId === 'string' ? this.getTenant(tenantId) : undefined;
  }

  async getTenant(tenantId: string): Promise<Tenant | undefined> {
    const item = await this.get(keys.tenant(tenantId));
    return item ? decodeTenant(item) : undefined;
  }

  async findUserByEmail(tenantId: string, email: string): Promise<LoginUser | undefined> {
    const sentinel = await this.get(keys.userEmail(tenantId, email));
    const userId = sentinel?.['userId'];
    return typeof userId === 'string' ? this.getUser(tenantId, userId) : undefined;
  }

  async getUser(tenantId: string, userId: string): Promise<LoginUser | undefined> {
    const item = await this.get(keys.user(tenantId, userId));
    return item && item['entity'] === ENTITY.user ? decode(userItem, item, 'user') : undefined;
  }

  async setPassword(tenantId: string, userId: string, passwordHash: string, at: string, activate: boolean): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.user(tenantId, userId),
          UpdateExpression: activate ? 'SET passwordHash = :h, passwordChangedAt = :t, #s = :active' : 'SET passwordHash = :h, passwordChangedAt = :t',
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeValues: { ':h': passwordHash, ':t': at, ...(activate ? { ':active': 'Active' } : {}) },
          ...(activate ? { ExpressionAttributeNames: { '#s': 'status' } } : {}),
        }),
      );
    } catch (err) {
      throw translateDynamoError(err, [{ name: 'UserGone', detail: 'The user no longer exists.' }]);
    }
  }

  async rehashPassword(tenantId: string, userId: string, oldHash: string, newHash: string): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.user(tenantId, userId),
          UpdateExpression: 'SET passwordHash = :new',
          ConditionExpression: 'passwordHash = :old',
          ExpressionAttributeValues: { ':new': newHash, ':old': oldHash },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw translateDynamoError(err);
    }
  }

  // --- invitations (FR-TENANT-001 acceptance) -----------------------------------------------------
  async getInvitation(tenantId: string, invitationId: string): Promise<Invitation | undefined> {
    const item = await this.get(keys.invitation(tenantId, invitationId));
    if (!item) return undefined;
    const { entity: _e, ...invitation } = decode(itemSchemas.invitation, item, 'invitation');
    return invitation;
  }

  async acceptInvitation(invitation: Invitation, passwordHash: string, at: string): Promise<void> {
    // The index entries copy the list row, creation time included; the transaction below re-checks the rest.
    const createdAt = (await this.get(keys.user(invitation.tenantId, invitation.userId)))?.['createdAt'];
    const invitedUser: TenantUser = { id: invitation.userId, tenantId: invitation.tenantId, email: invitation.email, role: invitation.role, status: 'Invited', createdAt: typeof createdAt === 'string' ? createdAt : at };
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: keys.invitation(invitation.tenantId, invitation.id),
                UpdateExpression: 'SET #s = :accepted, acceptedAt = :t',
                ConditionExpression: '#s = :pending',
                ExpressionAttributeNames: { '#s': 'status' },
                ExpressionAttributeValues: { ':accepted': 'Accepted', ':pending': 'Pending', ':t': at },
              },
            },
            {
              Update: {
                TableName: this.table,
                Key: keys.user(invitation.tenantId, invitation.userId),
                UpdateExpression: 'SET #s = :active, passwordHash = :h, passwordChangedAt = :t',
                ConditionExpression: '#s = :invited',
                ExpressionAttributeNames: { '#s': 'status' },
                ExpressionAttributeValues: { ':active': 'Active', ':invited': 'Invited', ':h': passwordHash, ':t': at },
              },
            },
            // The email sentinel is the user index (role and status denormalised): keep it in step.
            {
              Update: {
                TableName: this.table,
                Key: keys.userEmail(invitation.tenantId, invitation.email),
                UpdateExpression: 'SET #s = :active',
                ExpressionAttributeNames: { '#s': 'status' },
                ExpressionAttributeValues: { ':active': 'Active' },
              },
            },
            // And the status and role indexes: Invited → Active.
            ...userFilterWrites(this.table, invitedUser, { ...invitedUser, status: 'Active' }),
            ...(invitation.role === 'Owner'
              ? [{ Put: { TableName: this.table, Item: { ...keys.activeOwner(invitation.tenantId, invitation.userId), entity: 'ActiveOwner', userId: invitation.userId } } }]
              : []),
          ],
        }),
      );
    } catch (err) {
      throw translateDynamoError(err, [
        { name: 'InvitationNotPending', detail: 'The invitation was already used or revoked.' },
        { name: 'UserNotInvited', detail: 'The user is no longer waiting for an invitation.' },
      ]);
    }
  }

  // --- password reset (FR-AUTH-004) --------------------------------------------------------------
  async createPasswordReset(r: PasswordReset): Promise<void> {
    await this.put({ ...keys.passwordReset(r.tenantId, r.id), entity: 'PasswordReset', ...r, ttl: ttlAfter(r.expiresAt) }, 'attribute_not_exists(PK)', 'Reset id collision.');
  }

  async getPasswordReset(tenantId: string, resetId: string): Promise<PasswordReset | undefined> {
    const item = await this.get(keys.passwordReset(tenantId, resetId));
    return item ? decode(resetItem, item, 'password reset') : undefined;
  }

  async completePasswordReset(r: PasswordReset, passwordHash: string, at: string): Promise<void> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: keys.passwordReset(r.tenantId, r.id),
                UpdateExpression: 'SET #s = :used, usedAt = :t',
                ConditionExpression: '#s = :pending',
                ExpressionAttributeNames: { '#s': 'status' },
                ExpressionAttributeValues: { ':used': 'Used', ':pending': 'Pending', ':t': at },
              },
            },
            {
              Update: {
                TableName: this.table,
                Key: keys.user(r.tenantId, r.userId),
                UpdateExpression: 'SET passwordHash = :h, passwordChangedAt = :t',
                ConditionExpression: '#s = :active',
                ExpressionAttributeNames: { '#s': 'status' },
                ExpressionAttributeValues: { ':h': passwordHash, ':t': at, ':active': 'Active' },
              },
            },
          ],
        }),
      );
    } catch (err) {
      throw translateDynamoError(err, [
        { name: 'ResetUsed', detail: 'The reset link was already used.' },
        { name: 'UserNotActive', detail: 'The account is not active.' },
      ]);
    }
  }

  async revokeAllUserSessions(tenantId: string, userId: string, reason: string, at: string): Promise<number> {
    let n = 0;
    for (const s of await this.listUserSessions(tenantId, userId)) {
      if (s.status === 'Active' && (await this.revokeSession(tenantId, userId, s.id, reason, at))) n++;
    }
    // Families whose session was already gone are closed too: nothing bound to the user survives.
    const families = (await this.queryPrefix(tenantId, keys.userFamiliesPrefix(userId))).map((i) => decode(familyItem, i, 'refresh family'));
    for (const f of families) if (f.status === 'Active') await this.revokeRefreshFamily(tenantId, userId, f.id, reason, at);
    return n;
  }

  // --- authorization requests ---------------------------------------------------------------------
  async putAuthorizationRequest(r: AuthorizationRequest): Promise<void> {
    await this.put({ ...keys.authorizationRequest(r.id), entity: 'AuthorizationRequest', ...r, ttl: ttlAfter(r.expiresAt, 3600) });
  }

  async getAuthorizationRequest(id: string): Promise<AuthorizationRequest | undefined> {
    const item = await this.get(keys.authorizationRequest(id));
    return item ? decode(authzRequestItem, item, 'authorization request') : undefined;
  }

  async updateAuthorizationRequestTenant(id: string, tenantDomain: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.authorizationRequest(id),
          UpdateExpression: 'SET tenantDomain = :d',
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeValues: { ':d': tenantDomain },
        }),
      );
    } catch (err) {
      throw translateDynamoError(err, [{ name: 'Gone', detail: 'The sign-in request expired.' }]);
    }
  }

  // --- sessions -----------------------------------------------------------------------------------
  async completeSignIn(s: Session, c: AuthorizationCode, requestId: string): Promise<void> {
    // Retried on TransactionConflict: a double-submitted form makes two of these delete the same request
    // at once, and each submit should still sign in, as when these were three separate writes.
    await transactWrite(
      this.db,
      [
        { Put: { TableName: this.table, Item: { ...keys.session(s.tenantId, s.userId, s.id), entity: 'Session', ...s, ttl: ttlAfter(s.absoluteExpiresAt) }, ConditionExpression: 'attribute_not_exists(PK)' } },
        { Put: { TableName: this.table, Item: codeRecord(c), ConditionExpression: 'attribute_not_exists(PK)' } },
        // Unconditional, as the separate delete was.
        { Delete: { TableName: this.table, Key: keys.authorizationRequest(requestId) } },
      ],
      [
        { name: 'Conflict', detail: 'Session id collision.' },
        { name: 'Conflict', detail: 'Code collision.' },
      ],
    );
  }

  async getSession(tenantId: string, userId: string, sessionId: string): Promise<Session | undefined> {
    const item = await this.get(keys.session(tenantId, userId, sessionId));
    return item ? decode(sessionItem, item, 'session') : undefined;
  }

  async touchSession(s: Session, lastSeenAt: string, idleExpiresAt: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.session(s.tenantId, s.userId, s.id),
          UpdateExpression: 'SET lastSeenAt = :l, idleExpiresAt = :i',
          ConditionExpression: '#s = :active',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':l': lastSeenAt, ':i': idleExpiresAt, ':active': 'Active' },
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return; // revoked meanwhile: the next check sees it
      throw translateDynamoError(err);
    }
  }

  async listUserSessions(tenantId: string, userId: string): Promise<Session[]> {
    return (await this.queryPrefix(tenantId, keys.userSessionsPrefix(userId))).map((i) => decode(sessionItem, i, 'session'));
  }

  async revokeSession(tenantId: string, userId: string, sessionId: string, reason: string, at: string): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.session(tenantId, userId, sessionId),
          UpdateExpression: 'SET #s = :revoked, revokedReason = :r, revokedAt = :t',
          ConditionExpression: '#s = :active',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':revoked': 'Revoked', ':active': 'Active', ':r': reason, ':t': at },
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw translateDynamoError(err);
    }
    await this.revokeFamiliesOfSession(tenantId, userId, sessionId, reason, at);
    return true;
  }

  // --- authorization codes ------------------------------------------------------------------------
  async putCode(c: AuthorizationCode): Promise<void> {
    await this.put(codeRecord(c), 'attribute_not_exists(PK)', 'Code collision.');
  }

  async redeemCode(tenantId: string, codeHash: string, now: string): Promise<{ outcome: 'redeemed' | 'reused' | 'invalid'; code: AuthorizationCode | undefined }> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.authorizationCode(tenantId, codeHash),
          UpdateExpression: 'SET #s = :used, usedAt = :now',
          ConditionExpression: '#s = :unused AND expiresAt > :now',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':used': 'Used', ':unused': 'Unused', ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { outcome: 'redeemed', code: decode(codeItem, out.Attributes, 'code') };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw translateDynamoError(err);
    }
    const item = await this.get(keys.authorizationCode(tenantId, codeHash));
    if (!item) return { outcome: 'invalid', code: undefined };
    const code = decode(codeItem, item, 'code');
    return { outcome: code.status === 'Used' ? 'reused' : 'invalid', code };
  }

  async recordCodeIssue(tenantId: string, codeHash: string, issued: { familyId: string | null; jti: string; exp: string }): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.authorizationCode(tenantId, codeHash),
          UpdateExpression: 'SET issuedFamilyId = :f, issuedAccessTokenJti = :j, issuedAccessTokenExp = :e',
          ExpressionAttributeValues: { ':f': issued.familyId, ':j': issued.jti, ':e': issued.exp },
        }),
      );
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  // --- refresh token families ---------------------------------------------------------------------
  async createRefreshFamily(f: RefreshFamily): Promise<void> {
    await this.put({ ...keys.refreshFamily(f.tenantId, f.userId, f.id), entity: 'RefreshFamily', ...f, ttl: ttlAfter(f.absoluteExpiresAt) }, 'attribute_not_exists(PK)', 'Family collision.');
  }

  async getRefreshFamily(tenantId: string, userId: string, familyId: string): Promise<RefreshFamily | undefined> {
    const item = await this.get(keys.refreshFamily(tenantId, userId, familyId));
    return item ? decode(familyItem, item, 'refresh family') : undefined;
  }

  async rotateRefreshFamily(f: RefreshFamily, expectedHash: string, newHash: string): Promise<boolean> {
    const previous = [expectedHash, ...f.previousHashes].slice(0, MAX_PREVIOUS_HASHES);
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.refreshFamily(f.tenantId, f.userId, f.id),
          UpdateExpression: 'SET currentHash = :n, previousHashes = :p, generation = generation + :one',
          ConditionExpression: 'currentHash = :e AND #s = :active',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':n': newHash, ':p': previous, ':e': expectedHash, ':one': 1, ':active': 'Active' },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw translateDynamoError(err);
    }
  }

  async revokeRefreshFamily(tenantId: string, userId: string, familyId: string, reason: string, at: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.refreshFamily(tenantId, userId, familyId),
          UpdateExpression: 'SET #s = :revoked, revokedReason = :r, revokedAt = :t',
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':revoked': 'Revoked', ':r': reason, ':t': at },
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return;
      throw translateDynamoError(err);
    }
  }

  async revokeFamiliesOfSession(tenantId: string, userId: string, sessionId: string, reason: string, at: string): Promise<void> {
    const families = (await this.queryPrefix(tenantId, keys.userFamiliesPrefix(userId))).map((i) => decode(familyItem, i, 'refresh family'));
    for (const f of families) {
      if (f.sessionId === sessionId && f.status === 'Active') await this.revokeRefreshFamily(tenantId, userId, f.id, reason, at);
    }
  }

  // --- revoked access tokens ----------------------------------------------------------------------
  async revokeAccessToken(tenantId: string | null, jti: string, expiresAt: string): Promise<void> {
    await this.put({ ...keys.revokedAccessToken(tenantId, jti), entity: 'RevokedAccessToken', jti, expiresAt, ttl: ttlAfter(expiresAt) });
  }

  async isAccessTokenRevoked(tenantId: string | null, jti: string): Promise<boolean> {
    return (await this.get(keys.revokedAccessToken(tenantId, jti))) !== undefined;
  }

  private async queryPrefix(tenantId: string, prefix: string): Promise<Record<string, unknown>[]> {
    try {
      return await queryAll(this.db, {
        TableName: this.table,
        KeyConditionExpression: 'PK = :pk AND SK BETWEEN :sk AND :skEnd',
        ExpressionAttributeValues: { ':pk': keys.tenantPartition(tenantId), ':sk': prefix, ':skEnd': prefixEnd(prefix) },
        ConsistentRead: true,
      });
    } catch (err) {
      throw translateDynamoError(err);
    }
  }
}
