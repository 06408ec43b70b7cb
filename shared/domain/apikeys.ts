/**
 * API access keys (DAT-KEY, FR-SYS-002, 004 FR-004): credentials a Managed Application presents to the
 * Control Plane's machine APIs (flag delivery, billing, logs). Rules live here; storage is the
 * ApiKeyStore port (shared/adapters/dynamo/apikey-store.ts).
 *
 * Key format: `cpk_<keyId>_<secret>` — keyId is 16 lowercase hex characters (64 random bits, public: logs
 * and the API name a key by `cpk_<keyId>`), secret is 32 random bytes in base64url (43 characters). The
 * `cpk_` prefix makes leaked keys recognisable to secret scanners, as `cps_` does for client secrets.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { API_KEY_SCOPES, type ApiKeyPrincipal, type ApiKeyScope, type ApiKeyVerifier } from './delivery-ports';
import { AuthenticationError, BusinessRuleError, ConflictError, ForbiddenError, NotFoundError, ValidationError } from './errors';

/** SC-003: revocation must bite within 30 s; a positive result is trusted at most this long. */
export const API_KEY_CACHE_TTL_MS = 10_000;
/** Bounds the per-environment cache so a flood of distinct valid keys cannot grow memory without limit. */
export const API_KEY_CACHE_MAX_ENTRIES = 10_000;
/** 004 FR-004 usage tracking: lastUsedAt is written at most this often per key (per environment, and by condition). */
export const API_KEY_USAGE_WRITE_INTERVAL_MS = 5 * 60_000;
/** The latest expiry a key may be given at issuance. */
export const API_KEY_MAX_LIFETIME_MS = 2 * 365 * 24 * 3600_000;

export const API_KEY_PREFIX = 'cpk_';
const KEY_ID = /^[0-9a-f]{16}$/;
const PRESENTED = /^cpk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export type ApiKeyStatus = 'Active' | 'Revoked';

/** The stored record. `secretHash` never leaves the adapter and the service (see apiKeyView). */
export interface ApiKeyRecord {
  readonly keyId: string;
  readonly appId: string;
  readonly name: string;
  readonly scopes: readonly ApiKeyScope[];
  readonly secretHash: string;
  readonly status: ApiKeyStatus;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
  readonly revokedBy: string | null;
}

export interface ApiKeyStore {
  /** Conditional put: ConflictError when the keyId is taken. */
  create(record: ApiKeyRecord): Promise<void>;
  get(keyId: string): Promise<ApiKeyRecord | undefined>;
  listByApp(appId: string): Promise<ApiKeyRecord[]>;
  /** Sets status Revoked if still Active; returns the record as it is afterwards (undefined: no such key). */
  revoke(keyId: string, at: string, by: string): Promise<ApiKeyRecord | undefined>;
  /** The application's status, or undefined when there is no such application. */
  appStatus(appId: string): Promise<'Active' | 'Disabled' | undefined>;
  /** Writes lastUsedAt = at unless it is already at or after `threshold` (a conditional update; no error then). */
  touchLastUsed(keyId: string, at: string, threshold: string): Promise<void>;
}

export const createApiKeyBody = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(128, 'must be at most 128 characters'),
  scopes: z
    .array(z.enum(API_KEY_SCOPES))
    .min(1, 'must name at least one scope')
    .max(API_KEY_SCOPES.length)
    .transform((s) => [...new Set(s)]),
  expiresAt: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
});
export type CreateApiKeyInput = z.infer<typeof createApiKeyBody>;

export const apiKeyParams = z.strictObject({
  id: z.uuid('must be an application id (UUID)'),
  // Accept the logged form `cpk_<keyId>` too, so an id copied from a log line works as is.
  keyId: z
    .string()
    .regex(/^(cpk_)?[0-9a-f]{16}$/, 'must be a key id (16 hex characters, optionally prefixed cpk_)')
    .transform((s) => s.replace(/^cpk_/, '')),
});

/** A key as the API lists it: never the secret, never its hash. */
export function apiKeyView(k: ApiKeyRecord): Record<string, unknown> {
  return {
    keyId: k.keyId,
    prefix: `${API_KEY_PREFIX}${k.keyId}`,
    appId: k.appId,
    name: k.name,
    scopes: k.scopes,
    status: k.status,
    createdAt: k.createdAt,
    createdBy: k.createdBy,
    expiresAt: k.expiresAt,
    lastUsedAt: k.lastUsedAt,
    revokedAt: k.revokedAt,
  };
}

/**
 * SHA-256, not a password hash: the secret is 256 random bits, so brute force is hopeless whatever the
 * hash speed, and a slow hash (argon2) would only cost latency on every machine request.
 */
export function hashApiKeySecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** Constant-time comparison of the stored hash with the presented secret's hash. */
export function apiKeySecretMatches(storedHash: string, presentedSecret: string): boolean {
  const candidate = Buffer.from(hashApiKeySecret(presentedSecret), 'utf8');
  const stored = Buffer.from(storedHash, 'utf8');
  // timingSafeEqual needs equal lengths; both are 43-character digests unless the store is corrupt.
  if (stored.length !== candidate.length) return false;
  return timingSafeEqual(stored, candidate);
}

/** Strict parse: anything but exactly `cpk_<16 hex>_<canonical base64url of 32 bytes>` is undefined. */
export function parseApiKey(presented: string): { keyId: string; secret: string } | undefined {
  const m = PRESENTED.exec(presented);
  if (!m?.[1] || !m[2]) return undefined;
  // Canonical encoding only: 43 characters carry 258 bits, so two trailing bits must be zero.
  if (Buffer.from(m[2], 'base64url').toString('base64url') !== m[2]) return undefined;
  return { keyId: m[1], secret: m[2] };
}

export function isApiKeyId(s: string): boolean {
  return KEY_ID.test(s);
}

export function newApiKeyMaterial(): { keyId: string; secret: string; presented: string } {
  const keyId = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { keyId, secret, presented: `${API_KEY_PREFIX}${keyId}_${secret}` };
}

/** Throws ForbiddenError (403) unless the key carries the scope. */
export function requireScope(principal: Pick<ApiKeyPrincipal, 'keyId'> & { readonly scopes: readonly string[] }, scope: ApiKeyScope): void {
  if (!principal.scopes.includes(scope)) {
    throw new ForbiddenError(`This API key lacks the scope ${scope}.`, `api key cpk_${principal.keyId} lacks scope ${scope}`);
  }
}

export interface ApiKeyServiceOptions {
  /** Positive-result cache lifetime; capped at API_KEY_CACHE_TTL_MS (SC-003). 0 disables the cache. */
  readonly cacheTtlMs?: number;
  readonly cacheMaxEntries?: number;
  readonly now?: () => Date;
  /** Where failures of the fire-and-forget usage write go; they never fail a request. */
  readonly log?: { warn(msg: string, fields?: Record<string, unknown>): void };
}

interface CacheEntry {
  readonly principal: ApiKeyPrincipal;
  readonly until: number;
}

export class ApiKeyService implements ApiKeyVerifier {
  private readonly cacheTtlMs: number;
  private readonly cacheMax: number;
  private readonly now: () => Date;
  private readonly log: ApiKeyServiceOptions['log'];
  /** Keyed by sha256(presented key): the raw key is never held in memory beyond the call. */
  private readonly cache = new Map<string, CacheEntry>();
  /** keyId → when this environment last wrote lastUsedAt (ms). */
  private readonly usageWritten = new Map<string, number>();

  constructor(
    private readonly store: ApiKeyStore,
    options: ApiKeyServiceOptions = {},
  ) {
    this.cacheTtlMs = Math.max(0, Math.min(options.cacheTtlMs ?? API_KEY_CACHE_TTL_MS, API_KEY_CACHE_TTL_MS));
    this.cacheMax = options.cacheMaxEntries ?? API_KEY_CACHE_MAX_ENTRIES;
    this.now = options.now ?? ((): Date => new Date());
    this.log = options.log;
  }

  // --- management (FR-SYS-002) ------------------------------------------------------------------
  /** Issues a key; the returned `key` is the only time the full key exists outside the caller. */
  async issue(appId: string, input: CreateApiKeyInput, createdBy: string): Promise<{ record: ApiKeyRecord; key: string }> {
    const status = await this.store.appStatus(appId);
    if (status === undefined) throw new NotFoundError('No application with this id.');
    if (status !== 'Active') throw new BusinessRuleError('The application is disabled; enable it before issuing keys.');
    const now = this.now();
    let expiresAt: string | null = null;
    if (input.expiresAt !== undefined) {
      const t = Date.parse(input.expiresAt);
      const issue = (detail: string): ValidationError => new ValidationError('The expiry is not acceptable.', [{ location: 'body', pointer: '/expiresAt', detail }]);
      if (t <= now.getTime()) throw issue('must be in the future');
      if (t > now.getTime() + API_KEY_MAX_LIFETIME_MS) throw issue('must be at most 2 years from now');
      expiresAt = new Date(t).toISOString();
    }
    // 64-bit ids practically never collide; the conditional put makes sure, and a retry costs nothing.
    for (let attempt = 0; ; attempt++) {
      const m = newApiKeyMaterial();
      const record: ApiKeyRecord = {
        keyId: m.keyId,
        appId,
        name: input.name,
        scopes: input.scopes,
        secretHash: hashApiKeySecret(m.secret),
        status: 'Active',
        createdAt: now.toISOString(),
        createdBy,
        expiresAt,
        lastUsedAt: null,
        revokedAt: null,
        revokedBy: null,
      };
      try {
        await this.store.create(record);
        return { record, key: m.presented };
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= 2) throw err;
      }
    }
  }

  async list(appId: string): Promise<ApiKeyRecord[]> {
    if ((await this.store.appStatus(appId)) === undefined) throw new NotFoundError('No application with this id.');
    return this.store.listByApp(appId);
  }

  /** Idempotent: revoking a revoked key returns it unchanged. A key of another application is a 404. */
  async revoke(appId: string, keyId: string, by: string): Promise<ApiKeyRecord> {
    const existing = await this.store.get(keyId);
    if (!existing || existing.appId !== appId) throw new NotFoundError('No API key with this id for this application.');
    if (existing.status === 'Revoked') return existing;
    const after = await this.store.revoke(keyId, this.now().toISOString(), by);
    if (!after) throw new NotFoundError('No API key with this id for this application.');
    return after;
  }

  // --- verification (ApiKeyVerifier) ------------------------------------------------------------
  async verify(presented: string): Promise<ApiKeyPrincipal> {
    const nowMs = this.now().getTime();
    const cacheKey = createHash('sha256').update(presented, 'utf8').digest('base64url');
    const hit = this.cache.get(cacheKey);
    if (hit && hit.until > nowMs) {
      this.trackUsage(hit.principal.keyId, nowMs);
      return hit.principal;
    }
    if (hit) this.cache.delete(cacheKey);

    const parsed = parseApiKey(presented);
    if (!parsed) throw new AuthenticationError('api key malformed');
    const record = await this.store.get(parsed.keyId);
    // The hash is compared even when another check already failed, so the order of checks is not timed.
    const secretOk = apiKeySecretMatches(record?.secretHash ?? '', parsed.secret);
    if (!record) throw new AuthenticationError(`api key cpk_${parsed.keyId} unknown`);
    if (!secretOk) throw new AuthenticationError(`api key cpk_${parsed.keyId} secret mismatch`);
    if (record.status !== 'Active') throw new AuthenticationError(`api key cpk_${parsed.keyId} revoked`);
    const expiresMs = record.expiresAt === null ? Number.POSITIVE_INFINITY : Date.parse(record.expiresAt);
    if (expiresMs <= nowMs) throw new AuthenticationError(`api key cpk_${parsed.keyId} expired`);
    const appStatus = await this.store.appStatus(record.appId);
    if (appStatus !== 'Active') throw new AuthenticationError(`api key cpk_${parsed.keyId}: application ${record.appId} ${appStatus === undefined ? 'missing' : 'disabled'}`);

    const principal: ApiKeyPrincipal = Object.freeze({ keyId: record.keyId, appId: record.appId, scopes: Object.freeze([...record.scopes]) });
    if (this.cacheTtlMs > 0) {
      // Never cache past the key's own expiry: an expired key must fail at once, not up to TTL later.
      this.remember(this.cache, cacheKey, { principal, until: Math.min(nowMs + this.cacheTtlMs, expiresMs) });
    }
    if (record.lastUsedAt !== null) this.seedUsage(record.keyId, Date.parse(record.lastUsedAt));
    this.trackUsage(record.keyId, nowMs);
    return principal;
  }

  /** Drop cached results (tests; a process that itself revoked a key may call it too). */
  clearCache(): void {
    this.cache.clear();
  }

  /** Map insertion order makes this FIFO eviction: cheap, and entries live ≤ TTL anyway. */
  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    while (map.size >= this.cacheMax) {
      const oldest = map.keys().next();
      if (oldest.done === true) break;
      map.delete(oldest.value);
    }
    map.set(key, value);
  }

  /** A stored lastUsedAt tells us a write within the interval is not needed, without a write of our own. */
  private seedUsage(keyId: string, lastUsedMs: number): void {
    const known = this.usageWritten.get(keyId);
    if (Number.isFinite(lastUsedMs) && (known === undefined || lastUsedMs > known)) this.remember(this.usageWritten, keyId, lastUsedMs);
  }

  /** Fire-and-forget: usage tracking must never slow down or fail the request it observes. */
  private trackUsage(keyId: string, nowMs: number): void {
    const last = this.usageWritten.get(keyId);
    if (last !== undefined && nowMs - last < API_KEY_USAGE_WRITE_INTERVAL_MS) return;
    this.remember(this.usageWritten, keyId, nowMs);
    const at = new Date(nowMs).toISOString();
    const threshold = new Date(nowMs - API_KEY_USAGE_WRITE_INTERVAL_MS).toISOString();
    this.store.touchLastUsed(keyId, at, threshold).catch((err: unknown) => {
      this.log?.warn('api key usage write failed', { keyId: `cpk_${keyId}`, error: err instanceof Error ? err.name : String(err) });
    });
  }
}
