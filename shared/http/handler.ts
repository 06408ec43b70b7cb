import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { z } from 'zod';
import { container as defaultContainer, type Container } from '../composition';
import { MAX_JSON_BODY_BYTES } from '../config/constants';
import type { RequestOrigin } from '../domain/audit';
import type { AppKeyPrincipal, OperatorPrincipal, Principal, UserPrincipal } from '../domain/principal';
import type { ErrorRenderer } from './middleware/request-context';
import { writeAudit } from './audit';
import type { Logger } from './logger';
import { auditFailures } from './middleware/audit-failures';
import { authenticate, type AuthRequirement } from './middleware/authenticate';
import { jsonBody } from './middleware/json-body';
import { requestContext } from './middleware/request-context';
import { validate } from './middleware/validate';
import { getState, header } from './request';
import { json } from './response';

type Infer<S> = S extends z.ZodType ? z.infer<S> : undefined;

export interface HandlerInput<B, Q, P, A extends AuthRequirement> {
  readonly body: B;
  readonly query: Q;
  readonly params: P;
  readonly principal: A extends 'none' ? undefined : A extends 'user' ? UserPrincipal : A extends 'apikey' ? AppKeyPrincipal : A extends 'tenant' ? Principal : OperatorPrincipal;
  readonly origin: RequestOrigin;
  readonly deps: Container;
  readonly log: Logger;
  /** Request header, case-insensitive (conditional requests: If-None-Match). */
  readonly header: (name: string) => string | undefined;
}

export interface HandlerResult {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** For state-changing routes: what the success audit record names. */
  readonly audit?: { readonly resource: string; readonly tenantId: string | null; readonly details?: Record<string, unknown> };
}

export interface HandlerSpec<BS, QS, PS, A extends AuthRequirement> {
  readonly auth: A;
  readonly body?: BS;
  readonly query?: QS;
  readonly params?: PS;
  /** Set on state-changing routes: the audit action (`tenant.create`); success and failure are recorded. */
  readonly auditAction?: string;
  readonly handle: (input: HandlerInput<Infer<BS>, Infer<QS>, Infer<PS>, A>) => Promise<HandlerResult>;
  /** Protocols with their own error format (OFREP) render errors themselves; default problem+json. */
  readonly errorRenderer?: ErrorRenderer;
  /** JSON body limit in bytes (default MAX_JSON_BODY_BYTES); the ingestion batches need more. */
  readonly maxBodyBytes?: number;
  /** Tests and the local server may inject a container; Lambda uses the environment's. */
  readonly container?: () => Container;
}

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * The one way to write an API handler: parse → authenticate → validate → call the domain → respond, with
 * errors rendered and audited by the shared middleware. A handler file holds only its route's specifics.
 */
export function defineHandler<
  BS extends z.ZodType | undefined = undefined,
  QS extends z.ZodType | undefined = undefined,
  PS extends z.ZodType | undefined = undefined,
  A extends AuthRequirement = AuthRequirement,
>(spec: HandlerSpec<BS, QS, PS, A>): ApiHandler {
  const deps = spec.container ?? defaultContainer;
  const log = (): Logger => deps().log;

  const core = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const s = getState(event);
    const c = deps();
    // The middleware has set or validated each of these according to the spec; the casts restate that.
    const result = await spec.handle({
      body: s.body as Infer<BS>,
      query: s.query as Infer<QS>,
      params: s.params as Infer<PS>,
      principal: s.principal as HandlerInput<Infer<BS>, Infer<QS>, Infer<PS>, A>['principal'],
      origin: s.origin,
      deps: c,
      log: s.log,
      header: (name) => header(event, name),
    });
    if (spec.auditAction !== undefined && result.audit !== undefined) {
      await writeAudit(c, s.log, {
        actor: s.principal?.actor ?? { id: 'system', type: 'System', tenantId: null },
        action: spec.auditAction,
        resource: result.audit.resource,
        outcome: 'Success',
        tenantId: result.audit.tenantId,
        origin: s.origin,
        ...(result.audit.details ? { details: result.audit.details } : {}),
      });
    }
    return json(result.status, result.body, result.headers);
  };

  const m = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>()
    .use(requestContext(log, spec.errorRenderer))
    .use(auditFailures(spec.auditAction, deps));
  // Authentication first: an anonymous caller gets a 401 whatever it sent, and learns nothing of the input shape.
  m.use(authenticate(spec.auth, deps));
  if (spec.body !== undefined) m.use(jsonBody(spec.maxBodyBytes ?? MAX_JSON_BODY_BYTES));
  m.use(validate({ body: spec.body, query: spec.query, params: spec.params }));
  return m.handler(core);
}
