import type { AuditRecord } from '../domain/audit';
import type { EventQueue } from '../domain/ingest-ports';
import type { AuditLog } from '../domain/ports';

/**
 * FR-LOG-003 through the ingestion pipeline (issue #6): the control plane's own audit records take the
 * same queue as the applications' (API-LOG), so one consumer stores, archives and chains them all. The
 * record id is assigned before sending, so a redelivered message is stored once (conditional put).
 */
export class QueueAuditLog implements AuditLog {
  constructor(private readonly queue: () => EventQueue) {}

  async write(record: AuditRecord): Promise<void> {
    await this.queue().send([{ kind: 'audit', records: [record] }]);
  }
}
