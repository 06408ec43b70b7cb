/**
 * Audit records (DAT-LOG, FR-LOG-003). The spec's actor_type enum is User / Operator / System; a request
 * with no valid credentials has no actor, so denials of unauthenticated calls use `Anonymous` (see
 * doc/spec/traceability.md, "gaps filled").
 */
export type ActorType = 'User' | 'Operator' | 'System' | 'Anonymous';
export type Outcome = 'Success' | 'Failure';

export interface Actor {
  readonly id: string;
  readonly type: ActorType;
  /** Tenant of the actor; null for platform principals (FR-SYS-004). */
  readonly tenantId: string | null;
}

export const ANONYMOUS: Actor = { id: 'anonymous', type: 'Anonymous', tenantId: null };

/** Where the request came from; goes into every record's metadata. */
export interface RequestOrigin {
  readonly requestId: string;
  readonly ip: string;
  readonly userAgent: string | undefined;
}

export interface AuditRecord {
  readonly id: string;
  readonly timestamp: string;
  /** Tenant the record belongs to (the resource's tenant); null for platform-level events. */
  readonly tenantId: string | null;
  readonly actorId: string;
  readonly actorType: ActorType;
  readonly action: string;
  readonly resource: string;
  readonly outcome: Outcome;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface AuditEvent {
  readonly actor: Actor;
  readonly action: string;
  readonly resource: string;
  readonly outcome: Outcome;
  readonly tenantId: string | null;
  readonly origin: RequestOrigin;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Keys that must never reach an audit record even if a caller passes them in details. */
const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|credential|key_?hash/i;

export function scrubSecrets(details: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(details)) {
    if (SECRET_KEY.test(k)) continue;
    out[k] = v !== null && typeof v === 'object' && !Array.isArray(v) ? scrubSecrets(v as Record<string, unknown>) : v;
  }
  return out;
}

export function buildAuditRecord(event: AuditEvent, id: string, now: Date): AuditRecord {
  return {
    id,
    timestamp: now.toISOString(),
    tenantId: event.tenantId,
    actorId: event.actor.id,
    actorType: event.actor.type,
    action: event.action,
    resource: event.resource,
    outcome: event.outcome,
    metadata: {
      ...scrubSecrets(event.details ?? {}),
      ip: event.origin.ip,
      userAgent: event.origin.userAgent ?? null,
      requestId: event.origin.requestId,
    },
  };
}
