/**
 * Audit CSV export (issue #6, FR-LOG-002): rows/s and peak RSS of exportAuditCsv streaming generated audit
 * records (test/support/audit-generator.ts: quotes, commas, newlines, unicode, formula-like values) into
 * the local object store. Runs in a child process (test/support/export-million.ts) so that the peak RSS is
 * the export's alone. The rate includes generating the records (about half the CPU time: the generator
 * formats ids and timestamps per record); the table reader of a real export adds DynamoDB Query time on top
 * (1 MB pages), and S3 adds the multipart upload instead of the local file.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { ExportRunReport } from '../test/support/export-million';
import { judge, type Result } from './load';

const ROOT = resolve(import.meta.dirname, '..');
/** The acceptance bound: peak RSS under 200 MB for 1,000,000 rows. */
const RSS_LIMIT_BYTES = 200_000_000;

export async function exportBenchmark(rows = 1_000_000): Promise<Result[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cp-bench-export-'));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/export-million.ts'), dataDir, String(rows)], { cwd: ROOT, maxBuffer: 1024 * 1024 });
    const report = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as ExportRunReport;
    const rssMiB = report.maxRssKiB / 1024;
    const r: Result = {
      name: `audit CSV export (${rows.toLocaleString('en')} generated rows → local file)`,
      requests: report.rows,
      concurrency: 1,
      perSecond: report.rowsPerSecond,
      // Latency percentiles do not apply to one streaming job; the whole run's time is in the note.
      p50: NaN,
      p95: NaN,
      p99: NaN,
      errors: report.rows === rows ? 0 : 1,
      note: `${(report.bytes / 1e6).toFixed(1)} MB in ${(report.ms / 1000).toFixed(1)} s, ${(report.bytes / 1e6 / (report.ms / 1000)).toFixed(1)} MB/s, peak RSS ${rssMiB.toFixed(1)} MiB`,
    };
    return [judge(r, [{ label: 'peak RSS < 200 MB (the issue #6 bound at 1M rows)', met: report.maxRssKiB * 1024 < RSS_LIMIT_BYTES && r.errors === 0 }])];
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
