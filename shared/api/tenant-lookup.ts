import type { Container } from '../composition';
import { GoneError, NotFoundError } from '../domain/errors';
import type { Tenant } from '../domain/tenant';

/** A tenant by id: ERR-RES-410 once purged (FR-OPS-002), ERR-RES-404 if it never existed. */
export async function loadTenant(deps: Container, tenantId: string): Promise<Tenant> {
  const tenant = await deps.tenants.get(tenantId);
  if (tenant) return tenant;
  if (await deps.tenants.isPurged(tenantId)) throw new GoneError('The tenant has been permanently deleted.');
  throw new NotFoundError('No tenant with this id.');
}
