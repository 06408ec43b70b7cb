/**
 * FR-AUTH-001 / FR-AUTH-005: a successful password step writes the session, its authorization code and
 * the end of the sign-in request in one transaction (issue #3: 8 DynamoDB requests per sign-in). A
 * double-submitted form still signs in on each submit, as it did when these were separate writes.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoIdentityStore } from '../../shared/adapters/dynamo/identity-store';
import { pauseLocalConsumer } from '../../shared/adapters/local/local-queue';
import { container } from '../../shared/composition';
import { keys } from '../../shared/adapters/dynamo/keys';
import { ConflictError } from '../../shared/domain/errors';
import type { AuthorizationCode, Session } from '../../shared/domain/identity/model';
import { sha256 } from '../../shared/domain/identity/oauth';
import { Browser, hiddenFields } from '../support/browser';
import { startHarness, type Harness } from '../support/harness';
import { authorizeUrl, enableApp, OWNER_PASSWORD, registerApp, tenantWithOwner, type RegisteredApp, type TenantWithOwner } from '../support/identity';

const REDIRECT = 'https://double.example.com/callback';
let h: Harness;
let app: RegisteredApp;
let t: TenantWithOwner;

beforeAll(async () => {
  h = await startHarness();
  t = await tenantWithOwner(h, 'double-submit', h.dataDir);
  app = await registerApp(h, { name: 'Double', clientType: 'confidential', redirectUris: [REDIRECT] });
  await enableApp(h, t.tenantId, app.clientId);
});
afterAll(async () => {
  await h?.stop();
});

function records(requestId: string, n: number): { session: Session; code: AuthorizationCode; requestId: string } {
  const at = new Date().toISOString();
  const later = new Date(Date.now() + 3_600_000).toISOString();
  const session: Session = { id: `00000000-0000-4000-8000-00000000000${n}`, tenantId: t.tenantId, userId: t.ownerId, status: 'Active', secretHash: `s${n}`, authTime: at, amr: ['pwd'], createdAt: at, lastSeenAt: at, idleExpiresAt: later, absoluteExpiresAt: later, ip: '127.0.0.1', userAgent: null, revokedReason: null };
  const code: AuthorizationCode = { hash: `code-hash-${n}`, tenantId: t.tenantId, clientId: app.clientId, redirectUri: REDIRECT, codeChallenge: 'x', userId: t.ownerId, sessionId: session.id, scope: 'openid', nonce: null, authTime: at, amr: ['pwd'], expiresAt: later, status: 'Unused', issuedFamilyId: null, issuedAccessTokenJti: null, issuedAccessTokenExp: null };
  return { session, code, requestId };
}

describe('Completing a sign-in (FR-AUTH-001, FR-AUTH-005)', () => {
  it('FR-AUTH-001: a form submitted twice at once signs in on both submits, each with its own session and code', async () => {
    const b = new Browser();
    const first = await b.request(authorizeUrl(h, 'v'.repeat(43), { client_id: app.clientId, redirect_uri: REDIRECT, scope: 'openid', state: 'twice', tenant: t.domain }));
    const page = await b.request(first.location!);
    const hidden = hiddenFields(page.body);
    const form = { ...hidden, email: t.ownerEmail, password: OWNER_PASSWORD };
    const requestItem = async (): Promise<unknown> => (await h.db.send(new GetCommand({ TableName: h.cp.tableName, Key: keys.authorizationRequest(hidden['req'] ?? ''), ConsistentRead: true }))).Item;
    expect(await requestItem()).toBeDefined();
    const store = new DynamoIdentityStore(h.db, h.cp.tableName);
    const sessionsBefore = (await store.listUserSessions(t.tenantId, t.ownerId)).length;
    const [a, c] = await Promise.all([b.request(h.url('/login'), { form }), b.request(h.url('/login'), { form })]);
    expect([a.status, c.status]).toEqual([302, 302]);
    const codes = [a, c].map((r) => new URL(r.location!).searchParams.get('code') ?? '');
    expect(codes[0]).not.toBe(codes[1]);
    // In the table: two new sessions, and each code stored unused and bound to one of them.
    const sessions = await store.listUserSessions(t.tenantId, t.ownerId);
    expect(sessions).toHaveLength(sessionsBefore + 2);
    for (const code of codes) {
      const stored = (await h.db.send(new GetCommand({ TableName: h.cp.tableName, Key: keys.authorizationCode(t.tenantId, sha256(code)), ConsistentRead: true }))).Item;
      expect(stored).toMatchObject({ status: 'Unused', clientId: app.clientId });
      expect(sessions.map((x) => x.id)).toContain(stored?.['sessionId']);
    }
    // The sign-in request is gone: the item, and so a third submit finds it expired.
    expect(await requestItem()).toBeUndefined();
    expect((await b.request(h.url('/login'), { form })).status).toBe(400);
  });

  it('issue #3: a sign-in makes 9 DynamoDB requests, and 8 once this environment knows the domain (doc/benchmarks.md)', async () => {
    const commands: string[] = [];
    // The server's own table client: local mode runs the handlers in this process (shared/composition.ts).
    const db = container().db;
    db.middlewareStack.add((next, context) => async (args) => (commands.push(String((context as { commandName?: string }).commandName)), next(args)), { step: 'initialize', name: 'signInRequestCounter' });
    // The audit consumer is another function in AWS; its reads and writes are not the sign-in's.
    const resume = pauseLocalConsumer(h.dataDir, 'audit');
    try {
      const other = await tenantWithOwner(h, 'count-requests', h.dataDir);
      await enableApp(h, other.tenantId, app.clientId);
      const signInCommands = async (): Promise<string[]> => {
        const b = new Browser();
        const first = await b.request(authorizeUrl(h, 'v'.repeat(43), { client_id: app.clientId, redirect_uri: REDIRECT, scope: 'openid', tenant: other.domain }));
        const page = await b.request(first.location!);
        const from = commands.length;
        const res = await b.request(h.url('/login'), { form: { ...hiddenFields(page.body), email: other.ownerEmail, password: OWNER_PASSWORD } });
        expect(res.status).toBe(302);
        return commands.slice(from);
      };
      const sign = ['GetItemCommand', 'UpdateItemCommand', 'UpdateItemCommand'];
      const rest = ['BatchGetItemCommand', 'GetItemCommand', 'TransactWriteItemsCommand', 'UpdateItemCommand', 'UpdateItemCommand'];
      // Request, throttle counters, [domain], tenant + enablement + email, user, session + code + request, refunds.
      expect(await signInCommands()).toEqual([...sign, 'GetItemCommand', ...rest]);
      expect(await signInCommands()).toEqual([...sign, ...rest]);
    } finally {
      resume();
      db.middlewareStack.remove('signInRequestCounter');
    }
  });

  it('FR-AUTH-005: a completion cancelled only by a TransactionConflict is retried; one that keeps conflicting ends in ConflictError and writes nothing', async () => {
    const store = new DynamoIdentityStore(h.db, h.cp.tableName);
    const send = h.db.send.bind(h.db);
    let conflictsLeft = 1;
    let transactions = 0;
    const spy = vi.spyOn(h.db, 'send').mockImplementation(((command: unknown) => {
      if (command instanceof TransactWriteCommand) {
        transactions++;
        if (conflictsLeft-- > 0) {
          return Promise.reject(new TransactionCanceledException({ message: 'conflict', $metadata: {}, CancellationReasons: [{ Code: 'None' }, { Code: 'None' }, { Code: 'TransactionConflict' }] }));
        }
      }
      return send(command as Parameters<typeof send>[0]);
    }) as unknown as typeof h.db.send);
    try {
      const once = records('00000000-0000-4000-8000-0000000000aa', 1);
      await store.completeSignIn(once.session, once.code, once.requestId);
      expect(transactions).toBe(2);
      expect(await store.getSession(t.tenantId, t.ownerId, once.session.id)).toMatchObject({ id: once.session.id, status: 'Active' });

      conflictsLeft = 100;
      transactions = 0;
      const never = records('00000000-0000-4000-8000-0000000000bb', 2);
      await expect(store.completeSignIn(never.session, never.code, never.requestId)).rejects.toBeInstanceOf(ConflictError);
      expect(transactions).toBe(4);
      expect(await store.getSession(t.tenantId, t.ownerId, never.session.id)).toBeUndefined();
      expect((await h.db.send(new GetCommand({ TableName: h.cp.tableName, Key: keys.authorizationCode(t.tenantId, never.code.hash), ConsistentRead: true }))).Item).toBeUndefined();
    } finally {
      spy.mockRestore();
    }
  });
});
