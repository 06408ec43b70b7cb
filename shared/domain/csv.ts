/**
 * CSV as RFC 4180 defines it, for the audit export (FR-LOG-002, UC-AUDIT-EXPORT):
 * - records end with CRLF, the last one included; fields are separated by `,`;
 * - a field containing `"`, `,`, CR or LF is enclosed in double quotes, and its quotes are doubled;
 * - text is UTF-8 (the export adds a byte-order mark so that spreadsheet programs detect it; the parser
 *   here skips one).
 *
 * Formula injection (OWASP "CSV Injection"): a spreadsheet evaluates a cell that starts with `=`, `+`,
 * `-` or `@` as a formula, and tab or CR can hide such a start. Audit records carry text that callers
 * control (resource names, user agents, metadata), so every cell that starts with one of these characters
 * gets a leading apostrophe, which spreadsheets read as "this is text". THIS ALTERS SUCH VALUES in the
 * file: `=1+1` is written as `'=1+1`. To keep the file an exact, reversible copy of the records, a cell
 * that already starts with `'` gets one more as well, so `restoreFormulaCell` (drop one leading `'`
 * if there is one) recovers every original value exactly. The escape is applied to every cell,
 * header included, and does not depend on the column: that is why the export has a fixed column set,
 * so a reader knows that every cell of the file was escaped the same way.
 *
 * Memory: `encodeCsv` is an async generator that pulls rows one at a time and yields text in chunks of
 * bounded size, so exporting millions of rows never holds more than one chunk. `CsvParser` is the
 * matching push parser (chunks in, complete records out) for reading a large file back in flat memory.
 */

export const CRLF = '\r\n';
/** U+FEFF as the first character: how Excel and friends recognise a UTF-8 CSV file. */
export const UTF8_BOM = '\uFEFF';

const NEEDS_QUOTES = /[",\r\n]/;
const QUOTES = /"/g;

const APOSTROPHE = 0x27;

/** True when a spreadsheet could read the cell as a formula, or the cell starts with our own escape. */
function needsFormulaEscape(value: string): boolean {
  switch (value.charCodeAt(0)) {
    case 0x3d: // =
    case 0x2b: // +
    case 0x2d: // -
    case 0x40: // @
    case 0x09: // tab
    case 0x0d: // CR
    case APOSTROPHE: // keeps the escape reversible (module comment)
      return true;
    default:
      return false;
  }
}

/** The cell as written to the file, before quoting: formula-like values get a leading `'`. */
export function escapeFormulaCell(value: string): string {
  return needsFormulaEscape(value) ? `'${value}` : value;
}

/** Inverse of escapeFormulaCell: drops one leading `'`. */
export function restoreFormulaCell(cell: string): string {
  return cell.charCodeAt(0) === APOSTROPHE ? cell.slice(1) : cell;
}

/** One field, escaped against formulas and quoted when RFC 4180 requires it. */
export function csvField(value: string): string {
  const v = escapeFormulaCell(value);
  return NEEDS_QUOTES.test(v) ? `"${v.replace(QUOTES, '""')}"` : v;
}

/** One record, CRLF-terminated. */
export function csvRecord(values: readonly string[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) line += ',';
    line += csvField(values[i] ?? '');
  }
  return line + CRLF;
}

export interface EncodeOptions {
  /** Written first, escaped like any record. */
  readonly header?: readonly string[];
  /** Start with a UTF-8 byte-order mark. */
  readonly bom?: boolean;
  /**
   * Yield once this many UTF-16 code units have accumulated. Larger chunks mean fewer stream writes;
   * one chunk is all the encoder ever holds (a single record larger than this is yielded alone).
   */
  readonly chunkChars?: number;
}

/** Streams records as CSV text: pulls one row at a time, yields chunks of about `chunkChars`. */
export async function* encodeCsv(rows: AsyncIterable<readonly string[]> | Iterable<readonly string[]>, options: EncodeOptions = {}): AsyncGenerator<string, void, undefined> {
  const limit = options.chunkChars ?? 64 * 1024;
  let buf = options.bom ? UTF8_BOM : '';
  if (options.header) buf += csvRecord(options.header);
  for await (const row of rows) {
    buf += csvRecord(row);
    if (buf.length >= limit) {
      yield buf;
      buf = '';
    }
  }
  if (buf.length > 0) yield buf;
}

/** A malformed CSV input; `record` is 1-based. */
export class CsvSyntaxError extends Error {
  constructor(
    message: string,
    readonly record: number,
  ) {
    super(`CSV record ${record}: ${message}`);
    this.name = 'CsvSyntaxError';
  }
}

const enum State {
  /** At the start of a field (after a comma, or at the start of a record). */
  FieldStart,
  Unquoted,
  Quoted,
  /** Just read a `"` inside a quoted field: a doubled quote or the end of the field. */
  QuoteInQuoted,
  /** Just read the CR of a record's CRLF. */
  AfterCr,
}

/**
 * Strict RFC 4180 push parser: feed text chunks (split anywhere), get complete records back. Rejects what
 * the RFC does not allow — a bare CR or LF outside quotes, a quote inside an unquoted field, text after a
 * closing quote, an unterminated quoted field — so a test that parses our output also proves its form.
 * The last record may lack its CRLF (the RFC allows it). A leading byte-order mark is skipped.
 */
export class CsvParser {
  private state = State.FieldStart;
  private field = '';
  private row: string[] = [];
  private records = 0;
  private started = false;

  push(chunk: string): string[][] {
    const out: string[][] = [];
    let s = chunk;
    if (!this.started && s.length > 0) {
      this.started = true;
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    }
    const n = s.length;
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case State.FieldStart:
          if (s.charCodeAt(i) === 0x22) {
            this.state = State.Quoted;
            i++;
          } else {
            this.state = State.Unquoted;
          }
          break;
        case State.Unquoted: {
          let j = i;
          let c = 0;
          while (j < n) {
            c = s.charCodeAt(j);
            if (c === 0x2c || c === 0x0d || c === 0x0a || c === 0x22) break;
            j++;
          }
          if (j > i) this.field += s.slice(i, j);
          i = j;
          if (j === n) break;
          if (c === 0x2c) {
            this.endField();
            this.state = State.FieldStart;
          } else if (c === 0x0d) {
            this.endField();
            this.state = State.AfterCr;
          } else if (c === 0x0a) {
            throw this.error('bare LF outside a quoted field (records end with CRLF)');
          } else {
            throw this.error('double quote inside an unquoted field');
          }
          i++;
          break;
        }
        case State.Quoted: {
          const j = s.indexOf('"', i);
          if (j < 0) {
            this.field += s.slice(i);
            i = n;
          } else {
            this.field += s.slice(i, j);
            i = j + 1;
            this.state = State.QuoteInQuoted;
          }
          break;
        }
        case State.QuoteInQuoted: {
          const c = s.charCodeAt(i);
          if (c === 0x22) {
            this.field += '"';
            this.state = State.Quoted;
          } else if (c === 0x2c) {
            this.endField();
            this.state = State.FieldStart;
          } else if (c === 0x0d) {
            this.endField();
            this.state = State.AfterCr;
          } else {
            throw this.error('text after the closing quote of a field');
          }
          i++;
          break;
        }
        case State.AfterCr:
          if (s.charCodeAt(i) !== 0x0a) throw this.error('bare CR outside a quoted field (records end with CRLF)');
          out.push(this.endRecord());
          this.state = State.FieldStart;
          i++;
          break;
      }
    }
    return out;
  }

  /** Ends the input; returns the last record if it had no CRLF. */
  end(): string[][] {
    switch (this.state) {
      case State.Quoted:
        throw this.error('unterminated quoted field');
      case State.AfterCr:
        throw this.error('input ends after a CR');
      case State.FieldStart:
        // After a complete record: nothing pending. After a trailing comma: an empty last field.
        if (this.row.length === 0) return [];
        this.endField();
        return [this.endRecord()];
      default:
        this.endField();
        return [this.endRecord()];
    }
  }

  private endField(): void {
    this.row.push(this.field);
    this.field = '';
  }

  private endRecord(): string[] {
    const r = this.row;
    this.row = [];
    this.records++;
    return r;
  }

  private error(message: string): CsvSyntaxError {
    return new CsvSyntaxError(message, this.records + 1);
  }
}

/** Parses a whole CSV text (tests, small files). */
export function parseCsv(text: string): string[][] {
  const p = new CsvParser();
  return [...p.push(text), ...p.end()];
}

/** Parses a stream of text chunks record by record, in flat memory. */
export async function* parseCsvStream(chunks: AsyncIterable<string>): AsyncGenerator<string[], void, undefined> {
  const p = new CsvParser();
  for await (const chunk of chunks) yield* p.push(chunk);
  yield* p.end();
}
