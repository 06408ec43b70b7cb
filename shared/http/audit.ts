import { buildAuditRecord, type AuditEvent } from '../domain/audit';
import type { Container } from '../composition';
import { errorFields, type Logger } from './logger';

/**
 * FR-LOG-003. A failed audit write must not turn a completed change into an error response (the client
 * would retry a change that happened), so it is logged at error level with the full record, from which
 * it can be replayed; the queue-backed pipeline of issue #6 removes this window.
 */
export async function writeAudit(c: Pick<Container, 'audit' | 'ids' | 'clock'>, log: Logger, event: AuditEvent): Promise<void> {
  const record = buildAuditRecord(event, c.ids.uuid(), c.clock.now());
  try {
    await c.audit.write(record);
  } catch (err) {
    log.error('audit write failed', { auditRecord: record, ...errorFields(err) });
  }
}
