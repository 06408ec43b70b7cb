/**
 * NFR-SEC-004 / ADR-0012: a password hashed under weaker parameters (the OWASP floor, as before
 * ADR-0012) is upgraded at its next sign-in, without pretending the password changed and without
 * undoing a password change that happened meanwhile.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import argon2 from '@node-rs/argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Argon2idHasher, DEFAULT_ARGON2ID, OWASP_ARGON2ID } from '../../shared/adapters/crypto/argon2-hasher';
import { DynamoIdentityStore } from '../../shared/adapters/dynamo/identity-store';
import { keys } from '../../shared/adapters/dynamo/keys';
import { Browser } from '../support/browser';
import { startHarness, type Harness } from '../support/harness';
import { authorizeUrl, enableApp, OWNER_PASSWORD, registerApp, signIn, tenantWithOwner, type RegisteredApp, type TenantWithOwner } from '../support/identity';

const REDIRECT = 'https://rehash.example.com/callback';
const CHANGED_AT = '2026-01-02T03:04:05.000Z';
let h: Harness;
let app: RegisteredApp;
let t: TenantWithOwner;

beforeAll(async () => {
  h = await startHarness();
  t = await tenantWithOwner(h, 'rehash-co', h.dataDir);
  app = await registerApp(h, { name: 'Rehash', clientType: 'confidential', redirectUris: [REDIRECT] });
  await enableApp(h, t.tenantId, app.clientId);
});
afterAll(async () => {
  await h?.stop();
});

async function storedUser(): Promise<{ passwordHash: string; passwordChangedAt: string }> {
  const out = await h.db.send(new GetCommand({ TableName: h.cp.tableName, Key: keys.user(t.tenantId, t.ownerId), ConsistentRead: true }));
  return out.Item as { passwordHash: string; passwordChangedAt: string };
}

async function storeHash(passwordHash: string): Promise<void> {
  await h.db.send(new UpdateCommand({ TableName: h.cp.tableName, Key: keys.user(t.tenantId, t.ownerId), UpdateExpression: 'SET passwordHash = :h, passwordChangedAt = :c', ExpressionAttributeValues: { ':h': passwordHash, ':c': CHANGED_AT } }));
}

describe('Password rehash at sign-in (NFR-SEC-004, ADR-0012)', () => {
  it('NFR-SEC-004: a hash at the OWASP floor is replaced by one at the defaults at the next sign-in; passwordChangedAt stays', async () => {
    await storeHash(await new Argon2idHasher(OWASP_ARGON2ID).hash(OWNER_PASSWORD));
    const r = await signIn(new Browser(), authorizeUrl(h, 'v'.repeat(43), { client_id: app.clientId, redirect_uri: REDIRECT, scope: 'openid', tenant: t.domain }), { email: t.ownerEmail, password: OWNER_PASSWORD });
    expect(r.callback).toContain('code=');
    const after = await storedUser();
    expect(argon2.parseOptions(after.passwordHash)).toMatchObject({ memoryCost: DEFAULT_ARGON2ID.memoryCost, timeCost: DEFAULT_ARGON2ID.timeCost });
    expect(await new Argon2idHasher().verify(after.passwordHash, OWNER_PASSWORD)).toBe(true);
    expect(after.passwordChangedAt).toBe(CHANGED_AT);
  });

  it('NFR-SEC-004: a rehash never puts back a password that was changed after the sign-in read it', async () => {
    const hasher = new Argon2idHasher();
    const readAtSignIn = await new Argon2idHasher(OWASP_ARGON2ID).hash('the old password 123');
    const changedMeanwhile = await hasher.hash('the new password 456');
    await storeHash(changedMeanwhile);
    const store = new DynamoIdentityStore(h.db, h.cp.tableName);
    expect(await store.rehashPassword(t.tenantId, t.ownerId, readAtSignIn, await hasher.hash('the old password 123'))).toBe(false);
    expect((await storedUser()).passwordHash).toBe(changedMeanwhile);
    expect(await store.rehashPassword(t.tenantId, t.ownerId, changedMeanwhile, await hasher.hash('the new password 456'))).toBe(true);
    expect((await storedUser()).passwordHash).not.toBe(changedMeanwhile);
  });
});
