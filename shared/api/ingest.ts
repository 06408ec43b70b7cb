/**
 * The ingestion APIs' shared steps (API-BILL, API-LOG): scope check, per-tenant access with the same rule
 * as flag delivery, and the response shape of a partially accepted batch.
 */
import type { Container } from '../composition';
import { ForbiddenError, ValidationError } from '../domain/errors';
import type { ItemProblem, TenantAccess, ValidatedBatch } from '../domain/ingestion';
import type { AppKeyPrincipal } from '../domain/principal';

export function requireKeyScope(principal: AppKeyPrincipal, scope: 'bill:write' | 'bill:read' | 'log:write'): void {
  if (!principal.scopes.includes(scope)) throw new ForbiddenError(`The API key lacks the ${scope} scope.`, `missing scope ${scope}`);
}

/** An application may report for (and read) only the tenants it is enabled for; a purged tenant is gone. */
export function tenantAccessFor(deps: Container, appId: string): (tenantId: string) => Promise<TenantAccess> {
  return async (tenantId) => {
    if (await deps.identity.store.isAppEnabledForTenant(tenantId, appId)) return 'ok';
    return (await deps.tenants.isPurged(tenantId)) ? 'purged' : 'not-enabled';
  };
}

export interface IngestResponse {
  readonly accepted: number;
  readonly rejected: readonly ItemProblem[];
  readonly ids: readonly string[];
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
