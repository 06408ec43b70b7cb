/**
 * Child process of the export acceptance test and the export benchmark (FR-LOG-002, UC-AUDIT-EXPORT):
 * streams `rows` generated audit records through exportAuditCsv into a LocalObjectStore under `dataDir`
 * and prints one JSON line with what it wrote, how long it took and its peak RSS. A process of its own, so
 * that its peak RSS is the export's and nothing else's (no test runner, no other test's heap).
 *
 *   node --import tsx test/support/export-million.ts <dataDir> <rows>
 */
import { join } from 'node:path';
import { LocalObjectStore } from '../../shared/adapters/local/local-object-store';
import { exportAuditCsv } from '../../shared/domain/audit-export';
import { generateAuditRecords } from './audit-generator';

export interface ExportRunReport {
  readonly rows: number;
  readonly bytes: number;
  readonly sha256: string;
  readonly path: string;
  readonly ms: number;
  /** process.resourceUsage().maxRSS: peak resident set size, KiB. */
  readonly maxRssKiB: number;
  readonly rowsPerSecond: number;
}

export const EXPORT_BUCKET = 'exports';
export const EXPORT_KEY = 'exports/million.csv';

async function main(): Promise<void> {
  const [dataDir, rowsArg] = process.argv.slice(2);
  if (!dataDir || !rowsArg) throw new Error('usage: export-million.ts <dataDir> <rows>');
  const rows = Number(rowsArg);
  const store = new LocalObjectStore({ dataDir, bucket: EXPORT_BUCKET, baseUrl: 'http://localhost' });
  const started = process.hrtime.bigint();
  const out = await exportAuditCsv(generateAuditRecords(rows), store, EXPORT_KEY);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const report: ExportRunReport = {
    ...out,
    path: join(dataDir, 'objects', EXPORT_BUCKET, EXPORT_KEY),
    ms,
    maxRssKiB: process.resourceUsage().maxRSS,
    rowsPerSecond: out.rows / (ms / 1000),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

await main();
