import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { decodeJwt } from 'jose';
import { AuthenticationError, ForbiddenError } from '../../domain/errors';
import { operatorActor } from '../../domain/principal';
import type { Container } from '../../composition';
import { writeAudit } from '../audit';
import { getState, header } from '../request';

/** `developer` admits operators too: an operator may do whatever a developer may. */
/** `tenant`: a tenant user's access token or a platform principal's; the permission matrix decides. */
export type AuthRequirement = 'none' | 'operator' | 'developer' | 'user' | 'tenant' | 'apikey';

const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/;

/**
 * Operators (ACT-OPS) present an access token from the external IdP. A valid token without the operator
 * group is a 403, not a 401: the caller is known, just not allowed. The operator's user record is
 * provisioned on first sight (FR-SYS-004) and its id becomes the audit actor_id.
 */
export function authenticate(requirement: AuthRequirement, deps: () => Container): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    before: async (request) => {
      if (requirement === 'none') return;
      const s = getState(request.event);
      const raw = header(request.event, 'authorization');
      if (raw === undefined) throw new AuthenticationError('no bearer token');
      const m = BEARER.exec(raw);
      if (!m?.[1]) throw new AuthenticationError('malformed authorization header');
      const c = deps();
      if (requirement === 'apikey') {
        // Managed applications (UC-SYS-APP-AUTH): the key's id, hash, expiry, state and app state.
        const key = await c.apiKeys.verify(m[1]);
        s.principal = { kind: 'app', actor: { id: `apikey:${key.keyId}`, type: 'System', tenantId: null }, keyId: key.keyId, appId: key.appId, scopes: key.scopes };
        s.log = s.log.child({ actor: `apikey:${key.keyId}` });
        return;
      }
      // Which verifier to use is decided by the (unverified) issuer; the chosen verifier then checks everything.
      const ownToken = requirement === 'user' || (requirement === 'tenant' && issuerOf(m[1]) === c.config.issuer);
      if (ownToken) {
        // Our own access tokens: signature, expiry, revocation, and the live state of user, tenant, app, session.
        const state = await c.identity.tokens.accessTokenState(m[1]);
        if (!state.active) throw new AuthenticationError(`user token rejected: ${state.reason}`);
        const t = state.claims;
        if (!t.tenant_id || !t.sub) throw new ForbiddenError('This operation needs a user access token.', 'machine token');
        const user = await c.identity.store.getUser(t.tenant_id, t.sub);
        if (!user || user.status !== 'Active') throw new AuthenticationError('user no longer active');
        s.principal = { kind: 'user', actor: { id: t.sub, type: 'User', tenantId: t.tenant_id }, tenantId: t.tenant_id, userId: t.sub, sessionId: t.sid ?? null, clientId: t.client_id, role: user.role };
        s.log = s.log.child({ actor: t.sub });
        return;
      }
      const token = await c.operatorTokens.verify(m[1]);
      const isOperator = token.groups.includes(c.config.operatorGroup);
      const isDeveloper = token.groups.includes(c.config.developerGroup);
      const isAuditor = token.groups.includes(c.config.auditorGroup);
      // For `tenant` routes a platform principal passes here and meets the permission matrix next.
      const admitted = isOperator || (requirement === 'developer' && isDeveloper) || (requirement === 'tenant' && (isDeveloper || isAuditor));
      if (!admitted) {
        const needed = requirement === 'operator' ? 'Operator' : requirement === 'developer' ? 'Developer or Operator' : 'Operator, Auditor or tenant administrator';
        throw new ForbiddenError(`This operation requires the ${needed} role.`, `token of ${token.subject} lacks the required group`);
      }
      // The most powerful group wins when a token carries several.
      const kind = isOperator ? 'operator' : isAuditor && requirement === 'tenant' ? 'auditor' : 'developer';
      const { user, created } = await c.operators.findOrProvision(token, c.clock.now());
      s.principal = { kind, actor: operatorActor(user, kind), user };
      s.log = s.log.child({ actor: user.id });
      if (created) {
        await writeAudit(c, s.log, {
          actor: s.principal.actor,
          action: 'operator.provision',
          resource: `operator:${user.id}`,
          outcome: 'Success',
          tenantId: null,
          origin: s.origin,
          details: { issuer: token.issuer, subject: token.subject },
        });
      }
    },
  };
}

function issuerOf(token: string): string | undefined {
  try {
    const iss = decodeJwt(token).iss;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}
