/**
 * Structured JSON logs, one line per event. Secrets never reach a log: any field whose name looks like a
 * credential is replaced, at any depth, before serialising.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
const SECRET_FIELD = /pass(word)?|secret|token|authorization|cookie|credential|jwt|private|api_?key/i;

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[depth]';
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_FIELD.test(k) ? '[redacted]' : redact(v, depth + 1);
    return out;
  }
  return value;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(level: LogLevel, base: Record<string, unknown> = {}, sink: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Logger {
  return new JsonLogger(ORDER[level], base, sink);
}

/**
 * A class rather than closures: every request makes a child logger, and methods on the prototype cost
 * nothing to create (issue #5 bench: closures per request were a few percent of a cached delivery).
 */
class JsonLogger implements Logger {
  constructor(
    private readonly min: number,
    private readonly base: Record<string, unknown>,
    private readonly sink: (line: string) => void,
  ) {}

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.emit('debug', msg, fields);
  }

  info(msg: string, fields?: Record<string, unknown>): void {
    this.emit('info', msg, fields);
  }

  warn(msg: string, fields?: Record<string, unknown>): void {
    this.emit('warn', msg, fields);
  }

  error(msg: string, fields?: Record<string, unknown>): void {
    this.emit('error', msg, fields);
  }

  child(fields: Record<string, unknown>): Logger {
    // Below the threshold nothing is ever written: no need to merge fields nobody will read.
    if (this.min >= ORDER.silent) return this;
    return new JsonLogger(this.min, { ...this.base, ...fields }, this.sink);
  }

  private emit(lvl: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>): void {
    if (ORDER[lvl] < this.min) return;
    this.sink(JSON.stringify({ level: lvl, time: new Date().toISOString(), msg, ...(redact({ ...this.base, ...fields }) as Record<string, unknown>) }));
  }
}

export function parseLogLevel(raw: string | undefined): LogLevel {
  return raw === 'debug' || raw === 'info' || raw === 'warn' || raw === 'error' || raw === 'silent' ? raw : 'info';
}

/** Error fields safe to log: name, message, code, and the cause chain's names. No stack in logs of 4xx. */
export function errorFields(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { error: String(err) };
  const causeName = err.cause instanceof Error ? `${err.cause.name}: ${err.cause.message}` : undefined;
  return { errorName: err.name, errorMessage: err.message, ...(causeName ? { cause: causeName } : {}), stack: err.stack };
}
