/**
 * Local mode's mail outbox pages, served by the local API Gateway next to the API (its `extra` hook):
 *   GET /_local/outbox            list, newest first (`?to=` filters)
 *   GET /_local/outbox/<id>       one message: headers, text part, HTML part in a sandboxed iframe
 *   GET /_local/outbox/<id>.eml   the RFC 5322 file, for a mail client
 *   GET /_local/outbox.json?to=   the list as JSON, for scripts and tests
 * These pages exist only in local mode (createLocalApi is never deployed). They show live secret links, so
 * they answer only requests addressed to a loopback host name (a DNS-rebinding page cannot read them) and
 * every mail value is escaped; the mail HTML runs in an iframe with `sandbox=""` (no scripts, opaque origin).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { escapeHtml } from '../../domain/identity/mail-templates';
import { SECURITY_HEADERS } from '../../http/response';
import { listOutbox, readOutboxEml, readOutboxMessage, type OutboxMessage } from './outbox-mailer';

export const OUTBOX_PATH = '/_local/outbox';

/**
 * The API's CSP, loosened only for what these pages need: inline styles (the page's own <style> and the
 * mails' style attributes). No script, image, font or connect source. The srcdoc iframe inherits this
 * policy, which is a second lock on the mail HTML besides the sandbox; srcdoc loads nothing, so no frame-src
 * is needed. frame-ancestors stays 'none': these pages are never framed.
 */
export const OUTBOX_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const HTML_HEADERS: Readonly<Record<string, string>> = {
  ...SECURITY_HEADERS,
  'content-security-policy': OUTBOX_CSP,
  'content-type': 'text/html; charset=utf-8',
};

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:24px;color:#1f2933;background:#fafbfc}
h1{font-size:20px;margin:0 0 4px} p.note{color:#52606d;font-size:13px;margin:0 0 16px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:14px}
th,td{border:1px solid #dde1e6;padding:6px 10px;text-align:left;vertical-align:top}
th{background:#f0f2f5} td.time{white-space:nowrap;font-variant-numeric:tabular-nums}
.kind{display:inline-block;padding:1px 8px;border-radius:10px;background:#e0e7ff;color:#1e3a8a;font-size:12px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;background:#fff;border:1px solid #dde1e6;padding:12px;margin:0 0 16px}
dt{font-weight:bold} dd{margin:0;word-break:break-all}
h2{font-size:16px;margin:20px 0 8px}
pre{background:#fff;border:1px solid #dde1e6;padding:12px;white-space:pre-wrap;word-break:break-all;margin:0}
iframe{width:100%;height:560px;border:1px solid #dde1e6;background:#fff}
a{color:#1d4ed8}
`;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function isLoopbackHost(hostHeader: string | undefined): boolean {
  if (hostHeader === undefined) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${hostHeader}`).hostname.toLowerCase();
  } catch {
    return false;
  }
  return LOOPBACK_HOSTS.has(hostname) || hostname.endsWith('.localhost');
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
${body}
</body>
</html>
`;
}

function send(res: ServerResponse, status: number, headers: Readonly<Record<string, string>>, body: string): true {
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
  return true;
}

function notFound(res: ServerResponse): true {
  return send(res, 404, HTML_HEADERS, page('Not found', `<h1>No such message</h1><p><a href="${OUTBOX_PATH}">Back to the outbox</a></p>`));
}

function formatTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');
}

function listPage(messages: readonly OutboxMessage[], to: string | undefined): string {
  const rows = messages
    .map(
      (m) => `<tr>
<td class="time">${escapeHtml(formatTime(m.sentAt))}</td>
<td>${escapeHtml(m.to)}</td>
<td><a href="${OUTBOX_PATH}/${encodeURIComponent(m.messageId)}">${escapeHtml(m.subject)}</a></td>
<td><span class="kind">${escapeHtml(m.kind)}</span></td>
<td>${m.tenantId === null ? '' : escapeHtml(m.tenantId)}</td>
</tr>`,
    )
    .join('\n');
  const filter = to === undefined ? '' : ` to <strong>${escapeHtml(to)}</strong> (<a href="${OUTBOX_PATH}">show all</a>)`;
  const table =
    messages.length === 0
      ? '<p>No mail yet. Invitations and password resets sent in local mode appear here.</p>'
      : `<table><thead><tr><th>Time</th><th>To</th><th>Subject</th><th>Kind</th><th>Tenant</th></tr></thead>
<tbody>
${rows}
</tbody></table>`;
  return page(
    'Local outbox',
    `<h1>Local outbox</h1>
<p class="note">${messages.length} message${messages.length === 1 ? '' : 's'}${filter}, newest first. Local mode only: nothing was sent; these pages show live links.</p>
${table}`,
  );
}

/** The text part with its http(s) URLs made clickable; everything else escaped. */
function linkify(text: string): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(/https?:\/\/[^\s<>"']+/g)) {
    const index = m.index;
    let href: string | undefined;
    try {
      const u = new URL(m[0]);
      href = u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
    } catch {
      href = undefined;
    }
    out += escapeHtml(text.slice(last, index));
    out += href === undefined ? escapeHtml(m[0]) : `<a href="${escapeHtml(href)}">${escapeHtml(m[0])}</a>`;
    last = index + m[0].length;
  }
  return out + escapeHtml(text.slice(last));
}

function messagePage(m: OutboxMessage): string {
  const id = encodeURIComponent(m.messageId);
  const field = (name: string, value: string): string => `<dt>${escapeHtml(name)}</dt><dd>${value}</dd>`;
  return page(
    m.subject,
    `<p><a href="${OUTBOX_PATH}">&larr; Outbox</a></p>
<h1>${escapeHtml(m.subject)}</h1>
<dl>
${field('To', escapeHtml(m.to))}
${field('Subject', escapeHtml(m.subject))}
${field('Sent', escapeHtml(formatTime(m.sentAt)))}
${field('Kind', escapeHtml(m.kind))}
${field('Tenant', m.tenantId === null ? '&ndash;' : escapeHtml(m.tenantId))}
${field('Message-ID', escapeHtml(m.messageId))}
${field('Raw', `<a href="${OUTBOX_PATH}/${id}.eml">${escapeHtml(m.messageId)}.eml</a>`)}
</dl>
<h2>Text part</h2>
<pre>${linkify(m.text)}</pre>
<h2>HTML part</h2>
<iframe sandbox="" srcdoc="${escapeHtml(m.html)}" title="HTML part of the message" referrerpolicy="no-referrer"></iframe>`,
  );
}

/**
 * The local server's `extra` handler. Returns false for paths it does not own, so the gateway answers
 * those with its usual 404 problem.
 */
export function outboxPages(dataDir: string): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // Matched on the raw (still percent-encoded) path: `..%2f` never becomes a separator here, and ids are
    // checked against a strict pattern before they name a file.
    const path = url.pathname;
    const isList = path === OUTBOX_PATH || path === `${OUTBOX_PATH}/`;
    const isJson = path === `${OUTBOX_PATH}.json`;
    const isItem = path.startsWith(`${OUTBOX_PATH}/`) && !isList;
    if (!isList && !isJson && !isItem) return false;

    if (!isLoopbackHost(req.headers.host)) {
      return send(res, 403, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' }, 'The outbox is served to loopback host names only (localhost, 127.0.0.1, [::1]).\n');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, 405, { ...SECURITY_HEADERS, allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }, 'Method not allowed\n');
    }

    const to = url.searchParams.get('to') ?? undefined;
    if (isJson) {
      const messages = await listOutbox(dataDir, to === undefined ? {} : { to });
      return send(res, 200, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' }, JSON.stringify({ messages }));
    }
    if (isList) {
      return send(res, 200, HTML_HEADERS, listPage(await listOutbox(dataDir, to === undefined ? {} : { to }), to));
    }

    const rest = path.slice(OUTBOX_PATH.length + 1);
    if (rest.endsWith('.eml')) {
      const eml = await readOutboxEml(dataDir, rest.slice(0, -'.eml'.length));
      if (eml === undefined) return notFound(res);
      return send(res, 200, { ...SECURITY_HEADERS, 'content-type': 'message/rfc822', 'content-disposition': `attachment; filename="${rest}"` }, eml);
    }
    const message = await readOutboxMessage(dataDir, rest);
    if (message === undefined) return notFound(res);
    return send(res, 200, HTML_HEADERS, messagePage(message));
  };
}
