import { createTenantBody, tenantView } from '../../shared/api/tenants';
import { provisionTenant } from '../../shared/domain/provisioning';
import { BusinessRuleError } from '../../shared/domain/errors';
import { invitationMail } from '../../shared/domain/identity/mail-templates';
import { defineHandler } from '../../shared/http/handler';
import { errorFields } from '../../shared/http/logger';

/** POST /v1/tenants — UC-PROV-001 (minimal form), operators only. */
export const handler = defineHandler({
  auth: 'operator',
  body: createTenantBody,
  auditAction: 'tenant.create',
  handle: async ({ body, deps, log }) => {
    const { appIds = [], ...input } = body;
    // Unknown applications are refused before anything is written.
    const apps = await Promise.all(appIds.map((id) => deps.identity.store.getApp(id)));
    const missing = appIds.filter((_, i) => !apps[i]);
    if (missing.length > 0) {
      throw new BusinessRuleError('Unknown application.', missing.map((id) => ({ location: 'body' as const, pointer: `/appIds/${appIds.indexOf(id)}`, detail: 'is not a registered application' })));
    }
    const result = await provisionTenant({ tenants: deps.tenants, clock: deps.clock, ids: deps.ids, homeRegion: deps.config.homeRegion }, input);
    const at = deps.clock.now().toISOString();
    for (const id of appIds) await deps.identity.store.setAppEnabledForTenant(result.tenant.id, id, true, at);
    // The invitation token is never returned: it travels in the Owner's mail only. A mail failure does
    // not undo the tenant; the invitation can be re-sent (FR-TENANT-007).
    let mailed = true;
    try {
      await deps.identity.mailer.send(
        invitationMail({
          to: result.owner.email,
          tenantName: result.tenant.name,
          acceptUrl: `${deps.config.issuer}/invitations/accept?token=${encodeURIComponent(result.invitationToken)}`,
          expiresAt: new Date(result.invitation.expiresAt),
          tenantId: result.tenant.id,
        }),
      );
    } catch (err) {
      mailed = false;
      log.error('invitation mail failed', { tenantId: result.tenant.id, ...errorFields(err) });
    }
    return {
      status: 201,
      headers: { location: `/v1/tenants/${result.tenant.id}` },
      body: {
        tenant: tenantView(result.tenant),
        owner: { id: result.owner.id, email: result.owner.email, role: result.owner.role, status: result.owner.status },
        invitation: { ...result.invitation, mailed },
        flags: result.flags,
        appIds,
      },
      audit: {
        resource: `tenant:${result.tenant.id}`,
        tenantId: result.tenant.id,
        details: { name: result.tenant.name, domain: result.tenant.domain, plan: result.tenant.plan, homeRegion: result.tenant.homeRegion, ownerUserId: result.owner.id, appIds },
      },
    };
  },
});
