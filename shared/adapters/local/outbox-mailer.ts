/**
 * Local mode's Mailer: nothing leaves the machine. Each message becomes two files in `<dataDir>/outbox/`:
 * `<id>.json` (the message as sent, read by the outbox page and by tests) and `<id>.eml` (RFC 5322, to open
 * in a mail client). The files contain live secret links (invitations, password resets), hence 0600 in a
 * 0700 directory.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertMailHeadersSafe } from '../../domain/identity/mail-templates';
import type { MailMessage, Mailer } from '../../domain/identity/ports';

export interface OutboxMessage extends MailMessage {
  /** Also the file name stem and the id in the outbox page's URL. */
  readonly messageId: string;
  /** ISO 8601. */
  readonly sentAt: string;
}

/**
 * `<UTC timestamp to the millisecond>-<uuid>`. The fixed-width timestamp makes file names sort in sending
 * order; the strict shape is also what keeps outbox page URLs from naming any other file.
 */
export const OUTBOX_ID = /^\d{8}T\d{9}Z-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function outboxDir(dataDir: string): string {
  return join(dataDir, 'outbox');
}

function stamp(ms: number): string {
  // 2025-01-02T10:00:00.123Z -> 20250102T100000123Z
  return new Date(ms).toISOString().replace(/[-:.]/g, '');
}

/** Encode a header value as RFC 2047 encoded-words when it is not plain printable ASCII. */
function encodeHeader(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return value;
  // 45 bytes of UTF-8 per word keep each encoded-word under RFC 2047's 75 characters; never split a code point.
  const words: string[] = [];
  let chunk: Buffer[] = [];
  let size = 0;
  for (const ch of value) {
    const b = Buffer.from(ch, 'utf8');
    if (size + b.length > 45) {
      words.push(`=?UTF-8?B?${Buffer.concat(chunk).toString('base64')}?=`);
      chunk = [];
      size = 0;
    }
    chunk.push(b);
    size += b.length;
  }
  if (chunk.length > 0) words.push(`=?UTF-8?B?${Buffer.concat(chunk).toString('base64')}?=`);
  return words.join('\r\n ');
}

function base64Body(text: string): string {
  return (Buffer.from(text, 'utf8').toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}

/** RFC 5322 + MIME: multipart/alternative with the text part first (clients show the last one they can). */
export function toEml(message: OutboxMessage, from: string): string {
  const boundary = `=_outbox_${message.messageId.replace(/[^A-Za-z0-9]/g, '')}`;
  const date = new Date(message.sentAt).toUTCString().replace(/GMT$/, '+0000');
  const lines = [
    `From: ${encodeHeader(from)}`,
    `To: ${message.to}`,
    `Subject: ${encodeHeader(message.subject)}`,
    `Date: ${date}`,
    `Message-ID: <${message.messageId}@outbox.localhost>`,
    `X-Mail-Kind: ${message.kind}`,
    ...(message.tenantId !== null ? [`X-Tenant-Id: ${encodeHeader(message.tenantId)}`] : []),
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    base64Body(message.text),
    `--${boundary}`,
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    base64Body(message.html),
    `--${boundary}--`,
    '',
  ];
  return lines.join('\r\n');
}

export interface OutboxMailerOptions {
  /** Shown as From in the .eml (the MAIL_SENDER configuration when set). */
  readonly from?: string;
  readonly clock?: () => Date;
}

export class OutboxMailer implements Mailer {
  private readonly dir: string;
  private readonly from: string;
  private readonly clock: () => Date;
  private lastStampMs = 0;

  constructor(dataDir: string, options: OutboxMailerOptions = {}) {
    this.dir = outboxDir(dataDir);
    this.from = options.from ?? 'SaaS Control Plane (local) <no-reply@localhost>';
    this.clock = options.clock ?? (() => new Date());
  }

  async send(message: MailMessage): Promise<{ messageId: string }> {
    // The same refusal as SES, so local mode does not accept what AWS would reject.
    assertMailHeadersSafe(message);
    const now = this.clock();
    // Strictly increasing within this process, so two mails sent in the same millisecond keep their order.
    const ms = Math.max(now.getTime(), this.lastStampMs + 1);
    this.lastStampMs = ms;
    const messageId = `${stamp(ms)}-${randomUUID()}`;
    const stored: OutboxMessage = {
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
      kind: message.kind,
      tenantId: message.tenantId,
      messageId,
      sentAt: now.toISOString(),
    };
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    // The .eml first and the .json last, each renamed into place: a reader that sees the .json (the index)
    // sees complete files.
    await this.writeAtomically(`${messageId}.eml`, toEml(stored, this.from));
    await this.writeAtomically(`${messageId}.json`, `${JSON.stringify(stored, null, 2)}\n`);
    return { messageId };
  }

  private async writeAtomically(name: string, content: string): Promise<void> {
    const tmp = join(this.dir, `.${name}.tmp`);
    await writeFile(tmp, content, { mode: 0o600, flag: 'wx' });
    await rename(tmp, join(this.dir, name));
  }
}

function isOutboxMessage(v: unknown): v is OutboxMessage {
  if (v === null || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o['to'] === 'string' &&
    typeof o['subject'] === 'string' &&
    typeof o['text'] === 'string' &&
    typeof o['html'] === 'string' &&
    typeof o['kind'] === 'string' &&
    (o['tenantId'] === null || typeof o['tenantId'] === 'string') &&
    typeof o['messageId'] === 'string' &&
    typeof o['sentAt'] === 'string'
  );
}

/** One message by id; undefined for an unknown or malformed id (never a path outside the outbox). */
export async function readOutboxMessage(dataDir: string, id: string): Promise<OutboxMessage | undefined> {
  if (!OUTBOX_ID.test(id)) return undefined;
  let raw: string;
  try {
    raw = await readFile(join(outboxDir(dataDir), `${id}.json`), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const parsed: unknown = JSON.parse(raw);
    return isOutboxMessage(parsed) && parsed.messageId === id ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The raw .eml of a message, for download; undefined for an unknown id. */
export async function readOutboxEml(dataDir: string, id: string): Promise<string | undefined> {
  if (!OUTBOX_ID.test(id)) return undefined;
  try {
    return await readFile(join(outboxDir(dataDir), `${id}.eml`), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** All messages, newest first; `to` filters by recipient (case-insensitive). Foreign files are skipped. */
export async function listOutbox(dataDir: string, filter: { readonly to?: string } = {}): Promise<OutboxMessage[]> {
  let names: string[];
  try {
    names = await readdir(outboxDir(dataDir));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const ids = names
    .filter((n) => n.endsWith('.json'))
    .map((n) => n.slice(0, -'.json'.length))
    .filter((id) => OUTBOX_ID.test(id))
    .sort()
    .reverse();
  const to = filter.to?.toLowerCase();
  const out: OutboxMessage[] = [];
  for (const id of ids) {
    const m = await readOutboxMessage(dataDir, id);
    if (m && (to === undefined || m.to.toLowerCase() === to)) out.push(m);
  }
  return out;
}

/** For tests: the newest message of a kind to a recipient (e.g. to pick the reset link out of it). */
export async function latestMessage(dataDir: string, query: { readonly to: string; readonly kind: MailMessage['kind'] }): Promise<OutboxMessage | undefined> {
  return (await listOutbox(dataDir, { to: query.to })).find((m) => m.kind === query.kind);
}
