import { createTenantBody, tenantView } from '../../shared/api/tenants';
import { provisionTenant } from '../../shared/domain/provisioning';
import { defineHandler } from '../../shared/http/handler';

/** POST /v1/tenants — UC-PROV-001 (minimal form), operators only. */
export const handler = defineHandler({
  auth: 'operator',
  body: createTenantBody,
  auditAction: 'tenant.create',
  handle: async ({ body, deps }) => {
    const result = await provisionTenant(
      { tenants: deps.tenants, clock: deps.clock, ids: deps.ids, homeRegion: deps.config.homeRegion },
      body,
    );
    // The invitation token is not returned: it belongs in the owner's mail only (issue #4 sends it).
    return {
      status: 201,
      headers: { location: `/v1/tenants/${result.tenant.id}` },
      body: {
        tenant: tenantView(result.tenant),
        owner: { id: result.owner.id, email: result.owner.email, role: result.owner.role, status: result.owner.status },
        invitation: result.invitation,
        flags: result.flags,
      },
      audit: {
        resource: `tenant:${result.tenant.id}`,
        tenantId: result.tenant.id,
        details: { name: result.tenant.name, domain: result.tenant.domain, plan: result.tenant.plan, homeRegion: result.tenant.homeRegion, ownerUserId: result.owner.id },
      },
    };
  },
});
