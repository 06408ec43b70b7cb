/**
 * Issue #6 acceptance (FR-LOG-002, UC-AUDIT-EXPORT): 1,000,000 audit records exported to CSV with peak RSS
 * under 200 MB, and the CSV parses back to exactly those records.
 *
 * DynamoDB Local cannot take a million records in test time, so the source is the deterministic
 * generator (test/support/audit-generator.ts) — the same AsyncIterable<AuditRecord> contract the table
 * reader fulfils — and the sink the local object store. The export runs in a child process so that its
 * peak RSS (process.resourceUsage().maxRSS) measures the export alone. The file is then read back as a
 * stream, record by record, and each row compared with the regenerated record: nothing is held whole.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { AUDIT_CSV_COLUMNS, auditRecordFromCsvRow } from '../../shared/domain/audit-export';
import type { AuditRecord } from '../../shared/domain/audit';
import { parseCsvStream } from '../../shared/domain/csv';
import { auditRecordAt } from '../support/audit-generator';
import type { ExportRunReport } from '../support/export-million';
import { ROOT } from '../support/paths';

const ROWS = 1_000_000;
/** "200 MB", read strictly: 200 × 10^6 bytes. */
const RSS_LIMIT_BYTES = 200_000_000;

/** Structural equality of JSON-like values, key order ignored (a million calls: no expect() per row). */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function sameRecord(a: AuditRecord, b: AuditRecord): boolean {
  return (
    a.id === b.id &&
    a.timestamp === b.timestamp &&
    a.tenantId === b.tenantId &&
    a.actorId === b.actorId &&
    a.actorType === b.actorType &&
    a.action === b.action &&
    a.resource === b.resource &&
    a.outcome === b.outcome &&
    same(a.metadata, b.metadata)
  );
}

const dataDir = mkdtempSync(join(tmpdir(), 'cp-export-1m-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('audit CSV export at scale (issue #6 acceptance)', () => {
  it('FR-LOG-002, UC-AUDIT-EXPORT: 1,000,000 records export with peak RSS < 200 MB and parse back to exactly those records', { timeout: 240_000 }, async () => {
    const started = Date.now();
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/export-million.ts'), dataDir, String(ROWS)], {
      cwd: ROOT,
      maxBuffer: 1024 * 1024,
    });
    const report = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as ExportRunReport;
    const exportMs = Date.now() - started;

    expect(report.rows).toBe(ROWS);
    expect(report.maxRssKiB * 1024).toBeLessThan(RSS_LIMIT_BYTES);
    expect(statSync(report.path).size).toBe(report.bytes);

    // Read back as a stream: hash the bytes, parse the text, compare row by row.
    const parseStarted = Date.now();
    const hash = createHash('sha256');
    const file = createReadStream(report.path, { highWaterMark: 256 * 1024 });
    async function* text(): AsyncGenerator<string> {
      const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
      for await (const chunk of file) {
        hash.update(chunk as Buffer);
        yield decoder.decode(chunk as Buffer, { stream: true });
      }
      yield decoder.decode();
    }
    let n = -1;
    const mismatches: string[] = [];
    for await (const cells of parseCsvStream(text())) {
      if (n === -1) {
        expect(cells).toEqual([...AUDIT_CSV_COLUMNS]);
        n = 0;
        continue;
      }
      const got = auditRecordFromCsvRow(cells);
      const want = auditRecordAt(n);
      if (!sameRecord(got, want) && mismatches.length < 3) mismatches.push(`row ${n}:\n got ${JSON.stringify(got)}\nwant ${JSON.stringify(want)}`);
      n++;
    }
    const parseMs = Date.now() - parseStarted;
    expect(mismatches).toEqual([]);
    expect(n).toBe(ROWS);
    expect(hash.digest('hex')).toBe(report.sha256);

    console.log(
      `audit export: ${ROWS.toLocaleString('en')} rows, ${(report.bytes / 1e6).toFixed(1)} MB in ${(report.ms / 1000).toFixed(1)} s ` +
        `(${Math.round(report.rowsPerSecond).toLocaleString('en')} rows/s incl. the generator), peak RSS ${(report.maxRssKiB / 1024).toFixed(1)} MiB ` +
        `(child wall time ${(exportMs / 1000).toFixed(1)} s); read back and compared in ${(parseMs / 1000).toFixed(1)} s`,
    );
  });
});
