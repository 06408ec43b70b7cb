/**
 * Tamper evidence for audit records (issue #6, FR-LOG-001/003). A record's hash covers every field of the
 * record (not the table keys, TTL or index attributes, which are derived), in canonical JSON, so a change
 * of one byte in any field changes it. Batches and digests (shared/domain/audit-digest.ts) build on it.
 */
import { createHash } from 'node:crypto';
import type { AuditRecord } from './audit';
import { canonicalJson } from './canonical-json';

export function auditRecordHash(r: AuditRecord): string {
  const fields: AuditRecord = {
    id: r.id,
    timestamp: r.timestamp,
    tenantId: r.tenantId,
    actorId: r.actorId,
    actorType: r.actorType,
    action: r.action,
    resource: r.resource,
    outcome: r.outcome,
    metadata: r.metadata,
  };
  return createHash('sha256').update(canonicalJson(fields)).digest('hex');
}
