/**
 * The ingestion and billing-export APIs' shared steps (API-BILL, API-LOG): whether the calling application
 * serves a tenant — the same rule as flag delivery — and the response of a batch nothing was accepted of.
 */
import type { Container } from '../composition';
import { ForbiddenError, GoneError, ValidationError } from '../domain/errors';
import type { TenantAccess, ValidatedBatch } from '../domain/ingestion';

/**
 * A positive answer is reused this long per execution environment, as flag delivery does
 * (DELIVERY_CACHE_TTL_MS): an ingestion request then costs no table read. Disabling the application for
 * the tenant bites within this time, far inside SC-003's 30 s. Negative answers are not cached.
 */
const SERVED_CACHE_TTL_MS = 1_000;
const SERVED_CACHE_MAX = 10_000;
const served = new Map<string, number>();

/** An application may report for (and read) only the tenants it is enabled for; a purged tenant is gone. */
export function tenantAccessFor(deps: Container, appId: string): (tenantId: string) => Promise<TenantAccess> {
  return async (tenantId) => {
    const key = `${appId}|${tenantId}`;
    const now = Date.now();
    if ((served.get(key) ?? 0) > now) return 'ok';
    if (await deps.identity.store.isAppEnabledForTenant(tenantId, appId)) {
      if (served.size >= SERVED_CACHE_MAX) served.clear();
      served.set(key, now + SERVED_CACHE_TTL_MS);
      return 'ok';
    }
    return (await deps.tenants.isPurged(tenantId)) ? 'purged' : 'not-enabled';
  };
}

/** ERR-RES-410 for a purged tenant, ERR-AUTH-403 for one the application does not serve. */
export async function requireTenantServed(deps: Container, appId: string, tenantId: string): Promise<void> {
  const access = await tenantAccessFor(deps, appId)(tenantId);
  if (access === 'purged') throw new GoneError('The tenant has been permanently deleted.');
  if (access !== 'ok') throw new ForbiddenError('The application is not enabled for this tenant.', 'app not enabled for tenant');
}

/**
 * All rejected → 400 with every item's problems (nothing was enqueued). Otherwise 202: the accepted
 * events are queued (stored within seconds), the rejected ones listed by index.
 */
export function rejectIfNothingAccepted<T>(batch: ValidatedBatch<T>): void {
  if (batch.accepted.length > 0) return;
  throw new ValidationError(
    'No event in the request was accepted.',
    batch.rejected.flatMap((r) => r.errors.map((e) => ({ location: 'body' as const, pointer: `/events/${r.index}/${e.field.replace(/\./g, '/')}`, detail: `${e.detail} (${r.code})` }))),
  );
}
