/**
 * Issue #5 (FR-SYS-002, 004 FR-004, SC-003): API key format, verification rules and the per-environment
 * cache, against a counting in-memory store and an injected clock.
 */
import * as crypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  API_KEY_CACHE_TTL_MS,
  API_KEY_USAGE_WRITE_INTERVAL_MS,
  ApiKeyService,
  hashApiKeySecret,
  parseApiKey,
  requireScope,
  type ApiKeyRecord,
  type ApiKeyStore,
  type CreateApiKeyInput,
} from '../../shared/domain/apikeys';
import { AuthenticationError, ForbiddenError, NotFoundError, ValidationError } from '../../shared/domain/errors';

// Wrap timingSafeEqual in a spy so the tests can see the comparison is the constant-time one.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const APP = '11111111-2222-4333-8444-555555555555';

class FakeStore implements ApiKeyStore {
  readonly keys = new Map<string, ApiKeyRecord>();
  apps = new Map<string, 'Active' | 'Disabled'>([[APP, 'Active']]);
  calls = { get: 0, appStatus: 0, touch: 0 };
  touchFails = false;

  async create(r: ApiKeyRecord): Promise<void> {
    this.keys.set(r.keyId, r);
  }
  async get(keyId: string): Promise<ApiKeyRecord | undefined> {
    this.calls.get++;
    return this.keys.get(keyId);
  }
  async listByApp(appId: string): Promise<ApiKeyRecord[]> {
    return [...this.keys.values()].filter((k) => k.appId === appId);
  }
  async revoke(keyId: string, at: string, by: string): Promise<ApiKeyRecord | undefined> {
    const k = this.keys.get(keyId);
    if (!k) return undefined;
    const r = { ...k, status: 'Revoked' as const, revokedAt: at, revokedBy: by };
    this.keys.set(keyId, r);
    return r;
  }
  async appStatus(appId: string): Promise<'Active' | 'Disabled' | undefined> {
    this.calls.appStatus++;
    return this.apps.get(appId);
  }
  async touchLastUsed(keyId: string, at: string): Promise<void> {
    this.calls.touch++;
    if (this.touchFails) throw new Error('throttled');
    const k = this.keys.get(keyId);
    if (k) this.keys.set(keyId, { ...k, lastUsedAt: at });
  }
}

let store: FakeStore;
let nowMs: number;
let svc: ApiKeyService;
const input: CreateApiKeyInput = { name: 'flags', scopes: ['flag:read'] };

beforeEach(() => {
  store = new FakeStore();
  nowMs = Date.parse('2026-01-01T00:00:00Z');
  svc = new ApiKeyService(store, { now: () => new Date(nowMs) });
  vi.mocked(crypto.timingSafeEqual).mockClear();
});

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

describe('API key format (FR-SYS-002)', () => {
  it('issues cpk_<16 hex>_<43 base64url> and stores only the hash of the secret', async () => {
    const { record, key } = await svc.issue(APP, input, 'dev-1');
    expect(key).toMatch(/^cpk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const parsed = parseApiKey(key)!;
    expect(parsed.keyId).toBe(record.keyId);
    const stored = JSON.stringify(store.keys.get(record.keyId));
    expect(stored).not.toContain(parsed.secret);
    expect(store.keys.get(record.keyId)?.secretHash).toBe(hashApiKeySecret(parsed.secret));
  });

  it.each([
    ['', 'empty'],
    ['cpk_0123456789abcdef', 'no secret'],
    [`cpk_0123456789ABCDEF_${'A'.repeat(43)}`, 'upper-case key id'],
    [`cpk_0123456789abcde_${'A'.repeat(43)}`, 'short key id'],
    [`cpk_0123456789abcdef_${'A'.repeat(42)}`, 'short secret'],
    [`cpk_0123456789abcdef_${'A'.repeat(42)}B`, 'non-canonical base64url'],
    [`cps_0123456789abcdef_${'A'.repeat(43)}`, 'wrong prefix'],
    [` cpk_0123456789abcdef_${'A'.repeat(43)}`, 'leading space'],
    [`cpk_0123456789abcdef_${'A'.repeat(43)}\n`, 'trailing newline'],
  ])('malformed %j (%s) → 401 without a store lookup', async (presented) => {
    const e = await rejection(svc.verify(presented));
    expect(e).toBeInstanceOf(AuthenticationError);
    expect((e as AuthenticationError).status).toBe(401);
    expect((e as AuthenticationError).reason).toBe('api key malformed');
    expect(store.calls.get).toBe(0);
  });
});

describe('verification (ApiKeyVerifier)', () => {
  it('accepts a valid key and compares the secret hash in constant time', async () => {
    const { record, key } = await svc.issue(APP, { name: 'n', scopes: ['flag:read', 'bill:write'] }, 'dev-1');
    await expect(svc.verify(key)).resolves.toEqual({ keyId: record.keyId, appId: APP, scopes: ['flag:read', 'bill:write'] });
    expect(crypto.timingSafeEqual).toHaveBeenCalled();
  });

  it('a wrong secret for an existing key id → 401 (one public detail, reason for the audit)', async () => {
    const { record, key } = await svc.issue(APP, input, 'dev-1');
    const other = `cpk_${record.keyId}_${crypto.randomBytes(32).toString('base64url')}`;
    const e = (await rejection(svc.verify(other))) as AuthenticationError;
    expect(e).toBeInstanceOf(AuthenticationError);
    expect(e.detail).toBe('The request lacks valid credentials.');
    expect(e.reason).toContain('secret mismatch');
    expect(crypto.timingSafeEqual).toHaveBeenCalled();
    await expect(svc.verify(key)).resolves.toMatchObject({ keyId: record.keyId });
  });

  it('an unknown key id → 401', async () => {
    const e = (await rejection(svc.verify(`cpk_0123456789abcdef_${crypto.randomBytes(32).toString('base64url')}`))) as AuthenticationError;
    expect(e).toBeInstanceOf(AuthenticationError);
    expect(e.reason).toContain('unknown');
  });

  it('a revoked key → 401', async () => {
    const { record, key } = await svc.issue(APP, input, 'dev-1');
    await svc.revoke(APP, record.keyId, 'dev-1');
    const e = (await rejection(svc.verify(key))) as AuthenticationError;
    expect(e).toBeInstanceOf(AuthenticationError);
    expect(e.reason).toContain('revoked');
  });

  it('an expired key → 401, and a cached result never outlives the expiry', async () => {
    const expiresAt = new Date(nowMs + 5_000).toISOString();
    const { key } = await svc.issue(APP, { ...input, expiresAt }, 'dev-1');
    await expect(svc.verify(key)).resolves.toBeDefined();
    nowMs += 5_000; // within the cache TTL, but at the expiry
    const e = (await rejection(svc.verify(key))) as AuthenticationError;
    expect(e).toBeInstanceOf(AuthenticationError);
    expect(e.reason).toContain('expired');
  });

  it('a key of a disabled or missing application → 401', async () => {
    const { key } = await svc.issue(APP, input, 'dev-1');
    store.apps.set(APP, 'Disabled');
    expect(((await rejection(svc.verify(key))) as AuthenticationError).reason).toContain('disabled');
    store.apps.delete(APP);
    expect(((await rejection(svc.verify(key))) as AuthenticationError).reason).toContain('missing');
  });

  it('requireScope: 403 when the scope is missing', () => {
    const p = { keyId: '0123456789abcdef', appId: APP, scopes: ['flag:read'] as const };
    expect(() => requireScope(p, 'flag:read')).not.toThrow();
    expect(() => requireScope(p, 'bill:write')).toThrow(ForbiddenError);
  });
});

describe('issuance rules', () => {
  it('expiresAt in the past or beyond 2 years → 400 on /expiresAt', async () => {
    for (const expiresAt of [new Date(nowMs - 1000).toISOString(), new Date(nowMs + 3 * 365 * 86_400_000).toISOString()]) {
      const e = (await rejection(svc.issue(APP, { ...input, expiresAt }, 'dev-1'))) as ValidationError;
      expect(e).toBeInstanceOf(ValidationError);
      expect(e.issues[0]?.pointer).toBe('/expiresAt');
    }
  });

  it('a key of another application cannot be revoked through this one (404)', async () => {
    const other = '99999999-2222-4333-8444-555555555555';
    store.apps.set(other, 'Active');
    const { record } = await svc.issue(other, input, 'dev-1');
    await expect(svc.revoke(APP, record.keyId, 'dev-1')).rejects.toBeInstanceOf(NotFoundError);
    expect(store.keys.get(record.keyId)?.status).toBe('Active');
  });
});

describe('positive-result cache (SC-003)', () => {
  it(`reuses a positive result within the TTL (${API_KEY_CACHE_TTL_MS} ms max), then asks the store again`, async () => {
    const { key } = await svc.issue(APP, input, 'dev-1');
    await svc.verify(key);
    expect(store.calls.get).toBe(1);
    nowMs += API_KEY_CACHE_TTL_MS - 1;
    await svc.verify(key);
    expect(store.calls.get).toBe(1);
    nowMs += 1;
    await svc.verify(key);
    expect(store.calls.get).toBe(2);
  });

  it('revocation bites once the TTL has passed', async () => {
    const { record, key } = await svc.issue(APP, input, 'dev-1');
    await svc.verify(key);
    await store.revoke(record.keyId, new Date(nowMs).toISOString(), 'x'); // another environment revoked it
    await expect(svc.verify(key)).resolves.toBeDefined(); // cached
    nowMs += API_KEY_CACHE_TTL_MS;
    await expect(svc.verify(key)).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('a configured TTL is honoured but capped at API_KEY_CACHE_TTL_MS; 0 disables the cache', async () => {
    const capped = new ApiKeyService(store, { now: () => new Date(nowMs), cacheTtlMs: 60_000 });
    const { key } = await capped.issue(APP, input, 'dev-1');
    await capped.verify(key);
    nowMs += API_KEY_CACHE_TTL_MS;
    await capped.verify(key);
    expect(store.calls.get).toBe(2);
    const none = new ApiKeyService(store, { now: () => new Date(nowMs), cacheTtlMs: 0 });
    await none.verify(key);
    await none.verify(key);
    expect(store.calls.get).toBe(4);
  });

  it('a different secret with the same key id never hits the cached entry, and failures are not cached', async () => {
    const { record, key } = await svc.issue(APP, input, 'dev-1');
    await svc.verify(key);
    const wrong = `cpk_${record.keyId}_${crypto.randomBytes(32).toString('base64url')}`;
    await expect(svc.verify(wrong)).rejects.toBeInstanceOf(AuthenticationError);
    await expect(svc.verify(wrong)).rejects.toBeInstanceOf(AuthenticationError);
    expect(store.calls.get).toBe(3);
  });

  it('the cache is bounded', async () => {
    const small = new ApiKeyService(store, { now: () => new Date(nowMs), cacheMaxEntries: 2 });
    const issued = await Promise.all([1, 2, 3].map(() => small.issue(APP, input, 'dev-1')));
    for (const i of issued) await small.verify(i.key);
    expect(store.calls.get).toBe(3);
    await small.verify(issued[0]!.key); // evicted (oldest)
    expect(store.calls.get).toBe(4);
    await small.verify(issued[2]!.key); // still cached
    expect(store.calls.get).toBe(4);
  });
});

describe('usage tracking (004 FR-004)', () => {
  it('writes lastUsedAt at most once per interval per environment, and a failing write never fails the request', async () => {
    const log = { warn: vi.fn() };
    const tracked = new ApiKeyService(store, { now: () => new Date(nowMs), log });
    const { key } = await tracked.issue(APP, input, 'dev-1');
    await tracked.verify(key);
    expect(store.calls.touch).toBe(1);
    nowMs += API_KEY_CACHE_TTL_MS * 3;
    await tracked.verify(key);
    expect(store.calls.touch).toBe(1);
    nowMs += API_KEY_USAGE_WRITE_INTERVAL_MS;
    store.touchFails = true;
    await expect(tracked.verify(key)).resolves.toBeDefined();
    expect(store.calls.touch).toBe(2);
    await vi.waitFor(() => expect(log.warn).toHaveBeenCalledWith('api key usage write failed', expect.objectContaining({ error: 'Error' })));
  });
});
