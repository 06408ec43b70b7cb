import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ANONYMOUS } from '../../domain/audit';
import { isAppError } from '../../domain/errors';
import type { Container } from '../../composition';
import { writeAudit } from '../audit';
import { getState } from '../request';

/**
 * Every denial (401/403) on every route, and every failure of a state-changing route, writes an audit
 * record (FR-LOG-003, SC-002). Reads that fail for other reasons (404, 400) are not audited: they change
 * nothing, disclose nothing and would let anyone fill the audit log. That holds for the reads that do
 * carry an audit action (CON-SEC-002: a success discloses personal data); their denials use that action.
 */
export function auditFailures(action: string | undefined, deps: () => Container): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    onError: async (request) => {
      const s = getState(request.event);
      const err = request.error;
      const code = isAppError(err) ? err.code : 'ERR-SYS-500';
      const denied = code === 'ERR-AUTH-401' || code === 'ERR-AUTH-403';
      if (!denied && (action === undefined || s.method === 'GET')) return;
      let c: Container;
      try {
        c = deps();
      } catch {
        return; // configuration is broken; the error response and log already say so
      }
      await writeAudit(c, s.log, {
        actor: s.principal?.actor ?? ANONYMOUS,
        action: action ?? `${s.method} ${request.event.resource ?? s.path}`,
        resource: s.path,
        outcome: 'Failure',
        tenantId: null,
        origin: s.origin,
        // Filed in the platform partition (a caller must not be able to write into any tenant's partition by
        // naming it), with the path's ids in the metadata so that auditors can still find it per tenant.
        details: { code, reason: isAppError(err) ? err.reason ?? err.title : 'internal error', method: s.method, denied, pathParameters: request.event.pathParameters ?? null },
      });
    },
  };
}
