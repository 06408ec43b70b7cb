/**
 * Flag delivery to managed applications (FR-FLAG-002, API-FLAG) and OFREP: the checks every delivery
 * request makes, and the cache validators. A caller can never read another application's tenants by
 * changing a parameter: the tenant must be enabled for the key's application.
 */
import { createHash } from 'node:crypto';
import type { Container } from '../composition';
import { ForbiddenError } from '../domain/errors';
import { requireScope } from '../domain/apikeys';
import { requireTenantServed } from './ingest';
import type { AppKeyPrincipal } from '../domain/principal';
import type { TenantFlags } from '../domain/delivery-ports';
import { canonicalJson } from '../domain/canonical-json';

export { canonicalJson };

/** Short: applications SHOULD cache (API-FLAG); a change reaches them within this many seconds. */
export const FLAG_CACHE_MAX_AGE_SECONDS = 30;

/**
 * How long one execution environment reuses a tenant's delivery state (enablement, status, flags) for
 * one application. Short on purpose: a flag change, a suspension or an app being disabled for the tenant
 * reaches callers within this time (disabling the app: this plus the enablement cache of shared/api/ingest.ts,
 * 2 s), well inside SC-003's 30 s; in exchange the hot path (and every 304)
 * makes no database call at all. Only successful answers are cached.
 */
export const DELIVERY_CACHE_TTL_MS = 1_000;
const DELIVERY_CACHE_MAX = 10_000;
const deliveryCache = new Map<string, { readonly expiresAt: number; readonly value: TenantFlags }>();
/**
 * Loads under way, shared by the requests that miss together: when an entry expires under load, one
 * load refreshes it instead of one per concurrent request (a Node server serves many at once; a Lambda
 * environment one, where this changes nothing).
 */
const loading = new Map<string, Promise<TenantFlags>>();

export async function flagsForApp(deps: Container, principal: AppKeyPrincipal, tenantId: string): Promise<TenantFlags> {
  requireScope(principal, 'flag:read');
  const cacheKey = `${principal.appId}|${tenantId}`;
  const hit = deliveryCache.get(cacheKey);
  if (hit && hit.expiresAt > Date.now()) return hit.value;
  const pending = loading.get(cacheKey);
  if (pending) return pending;
  const load = loadFlagsForApp(deps, principal, tenantId)
    .then((value) => {
      if (deliveryCache.size >= DELIVERY_CACHE_MAX) deliveryCache.clear();
      // The lifetime starts when the answer is in hand: it never outlives the state it was read from by more.
      deliveryCache.set(cacheKey, { expiresAt: Date.now() + DELIVERY_CACHE_TTL_MS, value });
      return value;
    })
    .finally(() => loading.delete(cacheKey));
  loading.set(cacheKey, load);
  return load;
}

async function loadFlagsForApp(deps: Container, principal: AppKeyPrincipal, tenantId: string): Promise<TenantFlags> {
  // Enablement first: a key learns nothing about tenants its application does not serve, not even
  // whether they exist — except that a purged tenant answers 410 (FR-OPS-002).
  await requireTenantServed(deps, principal.appId, tenantId);
  const tenant = await deps.tenants.get(tenantId);
  if (!tenant || tenant.status !== 'Active') throw new ForbiddenError('The tenant is not active.', `tenant ${tenant?.status ?? 'missing'}`);
  return deps.flags.tenantFlags(tenant.id);
}

/** The GET validator depends on tenant and version only: computed once per version, not per request. */
const versionEtags = new Map<string, string>();

/** A strong validator from the tenant, its flag version, and (for OFREP bulk) the evaluation context. */
export function flagsEtag(tenantId: string, version: number, context?: unknown): string {
  if (context === undefined) {
    const key = `${tenantId}\n${version}\n`;
    let etag = versionEtags.get(key);
    if (etag === undefined) {
      if (versionEtags.size >= DELIVERY_CACHE_MAX) versionEtags.clear();
      etag = etagOf(key);
      versionEtags.set(key, etag);
    }
    return etag;
  }
  return etagOf(`${tenantId}\n${version}\n${canonicalJson(context)}`);
}

function etagOf(input: string): string {
  const h = createHash('sha256').update(input).digest('base64url');
  return `"${h.slice(0, 32)}"`;
}

/** RFC 9110 If-None-Match: `*`, or a list of entity tags (weak ones compare weakly, as for GET). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}
