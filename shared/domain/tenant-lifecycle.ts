/**
 * Tenant status changes (FR-OPS-001, FR-OPS-002, UC-TENANT-SUSPEND, UC-OPS-TENANT-DELETE). Pure rules:
 * which transitions exist and what they record; the store applies them with optimistic concurrency.
 */
import { BusinessRuleError } from './errors';
import type { Tenant } from './tenant';

export const DEFAULT_DELETION_GRACE_DAYS = 30;

export function suspend(t: Tenant, reason: string | null, now: Date): Tenant {
  if (t.status !== 'Active') throw new BusinessRuleError(`Only an Active tenant can be suspended; this one is ${t.status}.`);
  return { ...t, status: 'Suspended', suspension: { at: now.toISOString(), reason }, updatedAt: now.toISOString() };
}

/** Restore lifts a suspension, or cancels a deletion within its grace period (back to the status before). */
export function restore(t: Tenant, now: Date): Tenant {
  if (t.status === 'Suspended') return { ...t, status: 'Active', suspension: null, updatedAt: now.toISOString() };
  if (t.status === 'PendingDeletion' && t.deletion) {
    if (Date.parse(t.deletion.purgeAfter) <= now.getTime()) throw new BusinessRuleError('The grace period is over; the tenant is being purged.');
    return { ...t, status: t.deletion.previousStatus, deletion: null, updatedAt: now.toISOString() };
  }
  throw new BusinessRuleError(`Nothing to restore: the tenant is ${t.status}.`);
}

/**
 * Deletion needs explicit confirmation: the caller types the tenant's domain (as GitHub asks for a
 * repository name). The tenant becomes inaccessible at once and is purged after the grace period.
 */
export function requestDeletion(t: Tenant, confirmation: string, now: Date, graceDays: number): Tenant {
  if (confirmation !== t.domain) {
    throw new BusinessRuleError('Confirm the deletion by typing the tenant domain.', [{ location: 'body', pointer: '/confirm', detail: 'must equal the tenant domain' }]);
  }
  if (t.status === 'PendingDeletion') throw new BusinessRuleError('The tenant is already scheduled for deletion.');
  const purgeAfter = new Date(now.getTime() + graceDays * 86_400_000).toISOString();
  return { ...t, status: 'PendingDeletion', deletion: { requestedAt: now.toISOString(), purgeAfter, previousStatus: t.status }, updatedAt: now.toISOString() };
}

export function purgeDue(t: Tenant, now: Date): boolean {
  return t.status === 'PendingDeletion' && t.deletion !== null && t.deletion !== undefined && Date.parse(t.deletion.purgeAfter) <= now.getTime();
}
