/**
 * FR-LOG-002 / UC-AUDIT-EXPORT: the CSV the audit export writes. RFC 4180 form (CRLF, quoting), UTF-8,
 * formula-injection-safe cells (OWASP), and a lossless round trip — records → CSV → records — through the
 * strict parser, including text split at every possible chunk boundary.
 */
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../shared/domain/audit';
import { AUDIT_CSV_COLUMNS, auditCsvRow, auditRecordFromCsvRow } from '../../shared/domain/audit-export';
import { CsvParser, CsvSyntaxError, csvField, csvRecord, encodeCsv, escapeFormulaCell, parseCsv, restoreFormulaCell, UTF8_BOM } from '../../shared/domain/csv';

async function collect(gen: AsyncIterable<string>): Promise<string> {
  let s = '';
  for await (const c of gen) s += c;
  return s;
}

/** Deterministic PRNG (mulberry32): the "random" cases are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pieces that have broken CSV writers and readers. */
const PIECES = ['"', '""', ',', '\r', '\n', '\r\n', '\n\r', "'", '=', '+', '-', '@', '\t', ' ', 'a', 'Z', '0', '=HYPERLINK("http://x")', '=1+1', '@SUM(A1)', 'é', 'ß', '日本語', '😀', '👩‍👩‍👧', 'e\u0301', '\u2028', '\u00a0', '\uFEFF', '\\', ';', '|', '\0', '\x1b'];

function trickyString(rand: () => number): string {
  const n = Math.floor(rand() * 6);
  let s = '';
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(rand() * PIECES.length)];
  return s;
}

describe('CSV (RFC 4180, FR-LOG-002)', () => {
  it('FR-LOG-002: plain fields are written as they are; records end with CRLF', () => {
    expect(csvRecord(['a', 'b c', '', '1.5'])).toBe('a,b c,,1.5\r\n');
  });

  it('FR-LOG-002: fields with a quote, comma, CR or LF are quoted, and quotes doubled', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line1\nline2')).toBe('"line1\nline2"');
    expect(csvField('a\rb')).toBe('"a\rb"');
    expect(csvField('"')).toBe('""""');
    expect(csvRecord(['x', 'y,z'])).toBe('x,"y,z"\r\n');
  });

  it('FR-LOG-002: text is UTF-8 with a byte-order mark; non-ASCII passes unchanged', async () => {
    const text = await collect(encodeCsv([['日本語', 'Grüße', '😀 emoji', 'e\u0301']], { bom: true, header: ['h'] }));
    expect(text.startsWith(UTF8_BOM)).toBe(true);
    expect(text).toBe(`${UTF8_BOM}h\r\n日本語,Grüße,😀 emoji,e\u0301\r\n`);
    const bytes = Buffer.from(text, 'utf8');
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes)).toBe(true);
    expect(parseCsv(text)).toEqual([['h'], ['日本語', 'Grüße', '😀 emoji', 'e\u0301']]);
  });

  it('FR-LOG-002 (OWASP CSV injection): cells starting with = + - @ tab or CR get a leading apostrophe', () => {
    for (const v of ['=1+1', '+1', '-1', '@SUM(A1:A2)', '\tx', '\rx', '=HYPERLINK("http://evil","click")']) {
      expect(escapeFormulaCell(v)).toBe(`'${v}`);
      // Neutralised and still quoted when needed: the cell in the file starts with the apostrophe.
      const written = csvField(v);
      expect(written.replace(/^"/, '').startsWith("'")).toBe(true);
    }
    expect(csvField('=A1,B1')).toBe(`"'=A1,B1"`);
    expect(csvField('\r\n=1')).toBe(`"'\r\n=1"`);
    // Not at the start: left alone (a formula needs the trigger first).
    for (const v of ['a=b', '1-2', 'x@y.example', ' =1', '']) expect(escapeFormulaCell(v)).toBe(v);
  });

  it('FR-LOG-002: the apostrophe escape is reversible (a leading apostrophe is escaped too)', () => {
    for (const v of ["'", "'=1", "''", "'abc", '=1', 'plain', '']) expect(restoreFormulaCell(escapeFormulaCell(v))).toBe(v);
    expect(escapeFormulaCell("'abc")).toBe("''abc");
  });

  it('FR-LOG-002: the encoder yields bounded chunks and the whole equals the records joined', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => [`row ${i}`, 'x'.repeat(i % 50), i % 3 === 0 ? 'a,"b"' : 'c']);
    const chunks: string[] = [];
    for await (const c of encodeCsv(rows, { chunkChars: 1024 })) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(10);
    for (const c of chunks.slice(0, -1)) expect(c.length).toBeLessThan(1024 + 200);
    expect(chunks.join('')).toBe(rows.map(csvRecord).join(''));
  });

  it('FR-LOG-002: the parser is strict RFC 4180', () => {
    expect(parseCsv('a,b\r\n')).toEqual([['a', 'b']]);
    expect(parseCsv('a,b')).toEqual([['a', 'b']]); // the last CRLF is optional
    expect(parseCsv('a,\r\n,b\r\n')).toEqual([['a', ''], ['', 'b']]);
    expect(parseCsv('"a\r\nb",""""\r\n')).toEqual([['a\r\nb', '"']]);
    expect(parseCsv('\r\n')).toEqual([['']]);
    expect(parseCsv('')).toEqual([]);
    expect(() => parseCsv('a\nb\r\n')).toThrow(CsvSyntaxError);
    expect(() => parseCsv('a\rb\r\n')).toThrow(/bare CR/);
    expect(() => parseCsv('a"b\r\n')).toThrow(/double quote inside an unquoted field/);
    expect(() => parseCsv('"a"b\r\n')).toThrow(/after the closing quote/);
    expect(() => parseCsv('"abc')).toThrow(/unterminated/);
    expect(() => parseCsv('ok\r\n"x')).toThrow(/record 2/);
  });

  it('FR-LOG-002: a record survives being split at every chunk boundary', () => {
    const text = `${UTF8_BOM}${csvRecord(['a,b', 'q"uote', 'line\r\nbreak', '=f', '😀'])}${csvRecord(['', "'", '"'])}`;
    const expected = parseCsv(text);
    expect(expected).toHaveLength(2);
    for (let i = 0; i <= text.length; i++) {
      for (let j = i; j <= text.length; j += 7) {
        const p = new CsvParser();
        const got = [...p.push(text.slice(0, i)), ...p.push(text.slice(i, j)), ...p.push(text.slice(j)), ...p.end()];
        expect(got).toEqual(expected);
      }
    }
  });

  it('FR-LOG-002: 5,000 random rows of tricky strings round-trip exactly (property-style)', async () => {
    const rand = prng(0xc5f);
    const rows = Array.from({ length: 5000 }, () => Array.from({ length: 1 + Math.floor(rand() * 6) }, () => trickyString(rand)));
    const text = await collect(encodeCsv(rows, { bom: true, chunkChars: 4096 }));
    // Split the text at random places to exercise the parser's chunk handling as a stream would.
    const p = new CsvParser();
    const parsed: string[][] = [];
    for (let i = 0; i < text.length; ) {
      const n = 1 + Math.floor(rand() * 300);
      parsed.push(...p.push(text.slice(i, i + n)));
      i += n;
    }
    parsed.push(...p.end());
    expect(parsed).toHaveLength(rows.length);
    for (let r = 0; r < rows.length; r++) {
      const cells = parsed[r]!;
      // No cell in the file starts a formula.
      for (const c of cells) expect(/^[=+\-@\t\r]/.test(c)).toBe(false);
      expect(cells.map(restoreFormulaCell)).toEqual(rows[r]);
    }
  });
});

describe('audit records as CSV rows (UC-AUDIT-EXPORT)', () => {
  const base: AuditRecord = {
    id: '6c1f7a52-3f43-4c55-9d8e-0a4f0e3f6b11',
    timestamp: '2026-03-01T10:00:00.000Z',
    tenantId: 'b3a0c4a4-5d3c-4f7e-8b0a-3d0c8d3b1e22',
    actorId: 'user-1',
    actorType: 'User',
    action: 'user.invite',
    resource: 'user:42',
    outcome: 'Success',
    metadata: { ip: '203.0.113.9', userAgent: 'Mozilla/5.0 (X11; "quoted", comma)', requestId: 'req-1', role: 'Admin' },
  };

  it('UC-AUDIT-EXPORT: the columns are fixed, and ip/userAgent/requestId have their own', () => {
    expect(AUDIT_CSV_COLUMNS).toEqual(['id', 'timestamp', 'tenantId', 'actorId', 'actorType', 'action', 'resource', 'outcome', 'ip', 'userAgent', 'requestId', 'metadata']);
    const row = auditCsvRow(base);
    expect(row).toEqual([base.id, base.timestamp, base.tenantId, 'user-1', 'User', 'user.invite', 'user:42', 'Success', '203.0.113.9', 'Mozilla/5.0 (X11; "quoted", comma)', 'req-1', '{"role":"Admin"}']);
  });

  it('UC-AUDIT-EXPORT: records round-trip exactly, platform records, null and odd metadata included', () => {
    const cases: AuditRecord[] = [
      base,
      { ...base, tenantId: null, actorType: 'Anonymous', outcome: 'Failure', metadata: { ip: '::1', userAgent: null, requestId: 'r', code: 'ERR-AUTH-401' } },
      { ...base, action: '=cmd|"/c calc"!A0', resource: '-2+3', actorId: '@admin', metadata: { ip: '', nested: { a: [1, '=x', null] }, n: -1.5 } },
      { ...base, metadata: {} },
      { ...base, resource: "'already quoted", metadata: { userAgent: 5, requestId: '\r\nx' } },
    ];
    for (const r of cases) {
      const parsed = parseCsv(csvRecord(auditCsvRow(r)));
      expect(parsed).toHaveLength(1);
      expect(auditRecordFromCsvRow(parsed[0]!)).toEqual(r);
    }
  });

  it('UC-AUDIT-EXPORT: a row of the wrong shape is refused', () => {
    expect(() => auditRecordFromCsvRow(['a', 'b'])).toThrow(/12 cells/);
    const row = auditCsvRow(base);
    row[11] = 'not json';
    expect(() => auditRecordFromCsvRow(row)).toThrow(/not JSON/);
  });
});
