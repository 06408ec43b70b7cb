import { randomUUID } from 'node:crypto';
import type { ArchivedRecord, ArchiveStream, ObjectStore } from '../../domain/ingest-ports';

/**
 * Local mode's Firehose → S3: one NDJSON object per call and partition, at the key layout Firehose's
 * dynamic partitioning produces in AWS (`<kind>/tenant=<id>/date=<yyyy-mm-dd>/<object>`), so the purge
 * and any reader work the same on both.
 */
export class LocalArchive implements ArchiveStream {
  constructor(
    private readonly store: ObjectStore,
    private readonly prefix: string,
  ) {}

  async put(records: readonly ArchivedRecord[]): Promise<void> {
    const partitions = new Map<string, string[]>();
    for (const r of records) {
      const key = `${this.prefix}tenant=${r.partitionTenant}/date=${r.partitionDate}/`;
      const lines = partitions.get(key) ?? [];
      lines.push(JSON.stringify(r.record));
      partitions.set(key, lines);
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    for (const [prefix, lines] of partitions) {
      await this.store.put(`${prefix}${stamp}-${randomUUID()}.jsonl`, `${lines.join('\n')}\n`, 'application/x-ndjson');
    }
  }
}
