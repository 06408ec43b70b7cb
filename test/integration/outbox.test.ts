/**
 * Local mode's mail outbox: the OutboxMailer's files, and the outbox pages served by the real local API
 * Gateway (createLocalApi) exactly as `npm start` serves them.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalApi } from '../../shared/adapters/local/api-gateway';
import { latestMessage, listOutbox, OutboxMailer, type OutboxMessage } from '../../shared/adapters/local/outbox-mailer';
import { outboxPages } from '../../shared/adapters/local/outbox-page';
import { invitationMail, passwordResetMail } from '../../shared/domain/identity/mail-templates';
import { ROOT } from '../support/paths';

const dir = mkdtempSync(join(tmpdir(), 'cp-outbox-'));
const expiresAt = new Date('2030-01-01T12:00:00Z');
let clockMs = Date.parse('2025-06-01T09:00:00.000Z');
const mailer = new OutboxMailer(dir, { clock: () => new Date(clockMs) });

let server: Server;
let base: string;
const sent: { messageId: string }[] = [];

beforeAll(async () => {
  // Three mails, one second apart; the second has a hostile tenant name.
  sent.push(await mailer.send(invitationMail({ to: 'bob@example.com', tenantName: 'Acme', inviterName: 'Alice', acceptUrl: 'http://localhost:5173/accept?token=inv-1', expiresAt, tenantId: 't-acme' })));
  clockMs += 1000;
  sent.push(await mailer.send(invitationMail({ to: 'carol@example.com', tenantName: '<script>alert(1)</script> Ltd', acceptUrl: 'http://localhost:5173/accept?token=inv-2', expiresAt, tenantId: 't-evil' })));
  clockMs += 1000;
  sent.push(await mailer.send(passwordResetMail({ to: 'Bob@Example.com', resetUrl: 'http://localhost:5173/reset?token=reset-3', expiresAt, tenantId: 't-acme', requestIp: '127.0.0.1' })));

  server = createLocalApi({ routes: [], root: ROOT, extra: outboxPages(dir) });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A GET with the path sent verbatim (fetch would normalise `..` segments away before sending). */
function rawGet(path: string, host?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: 'GET', headers: host ? { host } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('OutboxMailer files', () => {
  it('writes <timestamp>-<id>.json with the full message, messageId and sentAt, and a .eml next to it, both 0600', () => {
    const files = readdirSync(join(dir, 'outbox')).sort();
    expect(files).toHaveLength(6);
    const first = sent[0]!.messageId;
    expect(first).toMatch(/^20250601T090000000Z-[0-9a-f-]{36}$/);
    expect(files).toContain(`${first}.json`);
    expect(files).toContain(`${first}.eml`);
    for (const f of files) expect(statSync(join(dir, 'outbox', f)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'outbox')).mode & 0o777).toBe(0o700);

    const stored = JSON.parse(readFileSync(join(dir, 'outbox', `${first}.json`), 'utf8')) as OutboxMessage;
    expect(stored).toMatchObject({ to: 'bob@example.com', kind: 'invitation', tenantId: 't-acme', messageId: first, sentAt: '2025-06-01T09:00:00.000Z' });
    expect(stored.text).toContain('http://localhost:5173/accept?token=inv-1');
    expect(stored.html).toContain('href="http://localhost:5173/accept?token=inv-1"');
  });

  it('the .eml is RFC 5322 + MIME multipart/alternative whose parts decode to the text and HTML', () => {
    const id = sent[0]!.messageId;
    const eml = readFileSync(join(dir, 'outbox', `${id}.eml`), 'utf8');
    const split = eml.indexOf('\r\n\r\n');
    const head = eml.slice(0, split);
    const body = eml.slice(split + 4);
    expect(head).toContain('To: bob@example.com');
    expect(head).toContain('Subject: You have been invited to join Acme');
    expect(head).toContain('Date: Sun, 01 Jun 2025 09:00:00 +0000');
    expect(head).toContain(`Message-ID: <${id}@outbox.localhost>`);
    expect(head).toContain('MIME-Version: 1.0');
    const boundary = /boundary="([^"]+)"/.exec(head)?.[1];
    expect(boundary).toBeDefined();
    expect(eml.split('\r\n').every((l) => l.length <= 998)).toBe(true);
    const parts = body.split(`--${boundary}`).slice(1, -1);
    expect(parts).toHaveLength(2);
    const decode = (part: string): string => Buffer.from(part.split('\r\n\r\n')[1]!.replace(/\r\n/g, ''), 'base64').toString('utf8');
    expect(parts[0]).toContain('Content-Type: text/plain; charset=utf-8');
    expect(decode(parts[0]!)).toContain('Alice has invited you to join Acme');
    expect(parts[1]).toContain('Content-Type: text/html; charset=utf-8');
    expect(decode(parts[1]!)).toContain('<strong>Acme</strong>');
    expect(body.trimEnd().endsWith(`--${boundary}--`)).toBe(true);
  });

  it('non-ASCII subjects become RFC 2047 encoded-words', async () => {
    const d = mkdtempSync(join(tmpdir(), 'cp-outbox-utf8-'));
    const { messageId } = await new OutboxMailer(d).send(invitationMail({ to: 'x@example.com', tenantName: 'Société Générale 株式会社', acceptUrl: 'https://x.example/a', expiresAt, tenantId: 't' }));
    const subject = /^Subject: (.*(?:\r\n .*)*)/m.exec(readFileSync(join(d, 'outbox', `${messageId}.eml`), 'utf8'))?.[1] ?? '';
    expect(subject).toMatch(/^=\?UTF-8\?B\?/);
    const decoded = subject
      .split('\r\n ')
      .map((w) => Buffer.from(/^=\?UTF-8\?B\?(.*)\?=$/.exec(w)![1]!, 'base64').toString('utf8'))
      .join('');
    expect(decoded).toBe('You have been invited to join Société Générale 株式会社');
  });

  it('listOutbox returns newest first and filters by recipient case-insensitively; latestMessage picks by kind', async () => {
    const all = await listOutbox(dir);
    expect(all.map((m) => m.messageId)).toEqual([sent[2]!.messageId, sent[1]!.messageId, sent[0]!.messageId]);
    const bob = await listOutbox(dir, { to: 'BOB@example.com' });
    expect(bob.map((m) => m.kind)).toEqual(['password-reset', 'invitation']);
    expect(await listOutbox(dir, { to: 'nobody@example.com' })).toEqual([]);
    expect((await latestMessage(dir, { to: 'bob@example.com', kind: 'invitation' }))?.messageId).toBe(sent[0]!.messageId);
    expect((await latestMessage(dir, { to: 'bob@example.com', kind: 'password-reset' }))?.text).toContain('token=reset-3');
    expect(await latestMessage(dir, { to: 'carol@example.com', kind: 'password-reset' })).toBeUndefined();
    expect(await listOutbox(join(dir, 'does-not-exist'))).toEqual([]);
  });

  it('two mails in the same millisecond keep their sending order', async () => {
    const d = mkdtempSync(join(tmpdir(), 'cp-outbox-same-ms-'));
    const m = new OutboxMailer(d, { clock: () => new Date('2025-01-01T00:00:00Z') });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await m.send(passwordResetMail({ to: 'a@example.com', resetUrl: `https://x.example/r${i}`, expiresAt, tenantId: 't' }))).messageId);
    expect((await listOutbox(d)).map((x) => x.messageId)).toEqual([...ids].reverse());
  });
});

describe('Outbox pages on the local server', () => {
  it('GET /_local/outbox lists time, to, subject and kind, newest first, with the hostile subject escaped', async () => {
    const res = await fetch(`${base}/_local/outbox`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).not.toContain('<script>');
    expect(html).toContain('You have been invited to join &#60;script&#62;alert(1)&#60;/script&#62; Ltd');
    expect(html).toContain('2025-06-01 09:00:00 UTC');
    expect(html).toContain('carol@example.com');
    expect(html).toContain('password-reset');
    const order = sent.map((s) => html.indexOf(`/_local/outbox/${s.messageId}`));
    expect(order.every((i) => i > 0)).toBe(true);
    expect(order[2]).toBeLessThan(order[1]!);
    expect(order[1]).toBeLessThan(order[0]!);
  });

  it('GET /_local/outbox/<id> shows the headers, the text part, and the HTML part only in a sandboxed srcdoc iframe', async () => {
    const res = await fetch(`${base}/_local/outbox/${sent[1]!.messageId}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<dd>carol@example.com</dd>');
    expect(html).toContain('<pre>Hello,\n\nYou have been invited to join &#60;script&#62;alert(1)&#60;/script&#62; Ltd on');
    expect(html).toContain('<a href="http://localhost:5173/accept?token=inv-2">http://localhost:5173/accept?token=inv-2</a>');
    expect(html).toMatch(/<iframe sandbox="" srcdoc="&#60;!DOCTYPE html&#62;/);
    // The only raw markup is the page's own: the mail's tags exist only escaped inside srcdoc.
    expect(html).not.toContain('<script>');
    expect(html.match(/<body/g)).toHaveLength(1);
  });

  it('GET /_local/outbox/<id>.eml downloads the raw message', async () => {
    const res = await fetch(`${base}/_local/outbox/${sent[0]!.messageId}.eml`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('message/rfc822');
    expect(await res.text()).toContain('To: bob@example.com');
  });

  it('GET /_local/outbox.json?to= lists the messages of one recipient for scripts and tests', async () => {
    const res = await fetch(`${base}/_local/outbox.json?to=${encodeURIComponent('bob@example.com')}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const { messages } = (await res.json()) as { messages: OutboxMessage[] };
    expect(messages.map((m) => m.messageId)).toEqual([sent[2]!.messageId, sent[0]!.messageId]);
    const all = (await (await fetch(`${base}/_local/outbox.json`)).json()) as { messages: OutboxMessage[] };
    expect(all.messages).toHaveLength(3);
  });

  it.each([
    '/_local/outbox/20250601T090000000Z-00000000-0000-0000-0000-000000000000',
    '/_local/outbox/nope',
    '/_local/outbox/..%2f..%2fetc%2fpasswd',
    '/_local/outbox/..%2F..%2F..%2F..%2Fetc%2Fpasswd.eml',
    '/_local/outbox/%2e%2e/%2e%2e/etc/passwd',
    '/_local/outbox/..%5c..%5cetc%5cpasswd',
  ])('an unknown id or a traversal attempt is a 404: %s', async (path) => {
    const res = await rawGet(path);
    expect(res.status).toBe(404);
    expect(res.body).not.toContain('root:');
  });

  it('a file planted next to the messages cannot be read through the page', async () => {
    writeFileSync(join(dir, 'outbox', 'secret.json'), JSON.stringify({ leaked: true }));
    expect((await rawGet('/_local/outbox/secret')).status).toBe(404);
    expect((await rawGet('/_local/outbox.json')).body).not.toContain('leaked');
  });

  it('paths the outbox does not own fall through to the gateway 404; non-GET methods are refused', async () => {
    const other = await fetch(`${base}/_local/other`);
    expect(other.status).toBe(404);
    expect(other.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect((await fetch(`${base}/_local/outbox`, { method: 'POST', body: 'x' })).status).toBe(405);
  });

  it('requests for a non-loopback host name are refused (a DNS-rebinding page cannot read live links)', async () => {
    const res = await rawGet('/_local/outbox.json', 'attacker.example:80');
    expect(res.status).toBe(403);
    expect(res.body).not.toContain('token=');
    expect((await rawGet('/_local/outbox.json', 'localhost:1234')).status).toBe(200);
  });
});
