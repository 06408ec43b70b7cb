/**
 * The identity context's outgoing mails (FR-TENANT-001 invitation, FR-AUTH-004 password reset, and the
 * password-changed notice). Pure functions: MailMessage in, no transport. Every interpolated value is
 * treated as hostile (tenant and inviter names are user input): HTML-escaped in the HTML part, reduced to
 * one line everywhere, and links must be absolute http(s) URLs.
 */
import { isIP } from 'node:net';
import { InternalError } from '../errors';
import type { MailMessage } from './ports';

const PRODUCT = 'SaaS Control Plane';

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** HTML-escape for both text content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Collapse a value to a single line: CR/LF (header injection in the subject, fake lines in the text part),
 * Unicode line/paragraph separators, NEL and other control characters become one space.
 */
export function oneLine(value: string): string {
  return value.replace(new RegExp(`${CONTROL.source}+`, 'g'), ' ').replace(/ {2,}/g, ' ').trim();
}

/**
 * Links in mails carry secrets and are built from our own configuration, so a non-http(s) URL
 * (javascript:, data:, file:) or one with embedded credentials is a bug or misconfiguration: refuse to
 * send rather than mail it. Returns the normalised href.
 */
export function safeLink(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new InternalError('mail link is not an absolute URL', err);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new InternalError(`mail link has a forbidden scheme ${parsed.protocol}`);
  if (parsed.username !== '' || parsed.password !== '') throw new InternalError('mail link must not embed credentials');
  return parsed.href;
}

/**
 * Refuse messages whose header fields could inject headers (CR/LF in To or Subject). The templates never
 * produce one; adapters call this as a last line of defence for hand-built messages.
 */
export function assertMailHeadersSafe(message: Pick<MailMessage, 'to' | 'subject'>): void {
  if (CONTROL.test(message.subject)) throw new InternalError('mail subject contains control characters');
  // A bare addr-spec: no display name, comments, lists or whitespace that could smuggle a second recipient.
  if (CONTROL.test(message.to) || !/^[^\s@<>"(),;:\\[\]]+@[^\s@<>"(),;:\\[\]]+$/.test(message.to)) throw new InternalError('mail recipient is not a plain address');
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'] as const;

/**
 * An absolute time in words, in UTC ("Thursday, 2 January 2025 at 10:00 UTC"). Absolute rather than
 * "in 24 hours" because mails are often read long after they are sent. Built by hand, not with Intl, so
 * the wording does not change with the ICU version.
 */
export function timeInWords(at: Date): string {
  if (Number.isNaN(at.getTime())) throw new InternalError('mail time is not a valid date');
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${WEEKDAYS[at.getUTCDay()]}, ${at.getUTCDate()} ${MONTHS[at.getUTCMonth()]} ${at.getUTCFullYear()} at ${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())} UTC`;
}

interface Layout {
  readonly heading: string;
  /** Paragraphs, already HTML (callers escape what they interpolate). */
  readonly paragraphs: readonly string[];
  readonly action?: { readonly label: string; readonly href: string };
  readonly footnotes: readonly string[];
}

/** Simple table-free layout with inline styles only: mail clients strip <style> and external CSS. */
function renderHtml(subject: string, layout: Layout): string {
  const p = (html: string, style = 'margin:0 0 16px;'): string => `<p style="${style}">${html}</p>`;
  const parts = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(subject)}</title></head>`,
    '<body style="margin:0;padding:24px;background:#f4f5f7;font-family:Arial,Helvetica,sans-serif;color:#1f2933;font-size:15px;line-height:1.5;">',
    '<div style="max-width:560px;margin:0 auto;background:#ffffff;border:1px solid #dde1e6;border-radius:6px;padding:24px;">',
    `<h1 style="margin:0 0 16px;font-size:20px;">${escapeHtml(layout.heading)}</h1>`,
    ...layout.paragraphs.map((html) => p(html)),
  ];
  if (layout.action) {
    const href = escapeHtml(layout.action.href);
    parts.push(
      p(`<a href="${href}" style="display:inline-block;padding:10px 18px;background:#1d4ed8;color:#ffffff;text-decoration:none;border-radius:4px;font-weight:bold;">${escapeHtml(layout.action.label)}</a>`, 'margin:0 0 16px;'),
      p(`If the button does not work, copy this address into your browser:<br><a href="${href}" style="color:#1d4ed8;word-break:break-all;">${href}</a>`, 'margin:0 0 16px;font-size:13px;'),
    );
  }
  parts.push(...layout.footnotes.map((html) => p(html, 'margin:0 0 8px;font-size:13px;color:#52606d;')));
  parts.push(`<p style="margin:16px 0 0;font-size:12px;color:#7b8794;">${escapeHtml(PRODUCT)}</p>`, '</div>', '</body>', '</html>', '');
  return parts.join('\n');
}

/** The text part: the same content, with the link on its own line so clients make it clickable. */
function renderText(lines: readonly (string | null)[]): string {
  return `${lines.filter((l): l is string => l !== null).join('\n')}\n\n-- \n${PRODUCT}\n`;
}

export interface InvitationMailInput {
  readonly to: string;
  readonly tenantName: string;
  readonly inviterName?: string;
  readonly acceptUrl: string;
  readonly expiresAt: Date;
  readonly tenantId: string;
}

/** FR-TENANT-001: the invitation to join a tenant, with its single-use accept link. */
export function invitationMail(input: InvitationMailInput): MailMessage {
  const tenant = oneLine(input.tenantName);
  const inviter = input.inviterName === undefined ? '' : oneLine(input.inviterName);
  const link = safeLink(input.acceptUrl);
  const expires = timeInWords(input.expiresAt);
  const subject = oneLine(`You have been invited to join ${tenant}`);
  const invited = inviter === '' ? 'You have been invited' : `${inviter} has invited you`;
  const invitedHtml = inviter === '' ? 'You have been invited' : `<strong>${escapeHtml(inviter)}</strong> has invited you`;
  const message: MailMessage = {
    to: input.to,
    subject,
    kind: 'invitation',
    tenantId: input.tenantId,
    text: renderText([
      'Hello,',
      '',
      `${invited} to join ${tenant} on ${PRODUCT}.`,
      '',
      'To accept the invitation, open this link:',
      link,
      '',
      `The invitation expires on ${expires}. After that, ask for a new one.`,
      '',
      'If you did not expect this invitation, you can ignore this email: nothing happens unless the link is used.',
    ]),
    html: renderHtml(subject, {
      heading: `Join ${tenant}`,
      paragraphs: [`${invitedHtml} to join <strong>${escapeHtml(tenant)}</strong> on ${escapeHtml(PRODUCT)}.`],
      action: { label: 'Accept invitation', href: link },
      footnotes: [
        `The invitation expires on ${escapeHtml(expires)}. After that, ask for a new one.`,
        'If you did not expect this invitation, you can ignore this email: nothing happens unless the link is used.',
      ],
    }),
  };
  assertMailHeadersSafe(message);
  return message;
}

export interface PasswordResetMailInput {
  readonly to: string;
  readonly resetUrl: string;
  readonly expiresAt: Date;
  readonly tenantId: string;
  /** Where the request came from, to help the recipient recognise a request they did not make. */
  readonly requestIp?: string;
}

/** FR-AUTH-004: the password reset link. */
export function passwordResetMail(input: PasswordResetMailInput): MailMessage {
  const link = safeLink(input.resetUrl);
  const expires = timeInWords(input.expiresAt);
  // Only a well-formed IP address is shown: the field is informational, and anything else is noise.
  const ip = input.requestIp !== undefined && isIP(input.requestIp) !== 0 ? input.requestIp : null;
  const subject = 'Reset your password';
  const message: MailMessage = {
    to: input.to,
    subject,
    kind: 'password-reset',
    tenantId: input.tenantId,
    text: renderText([
      'Hello,',
      '',
      `Someone asked to reset the password of your ${PRODUCT} account${ip === null ? '' : ` (the request came from IP address ${ip})`}.`,
      '',
      'To choose a new password, open this link:',
      link,
      '',
      `The link can be used once and expires on ${expires}.`,
      '',
      'If you did not ask for this, you can ignore this email: your password stays unchanged.',
    ]),
    html: renderHtml(subject, {
      heading: 'Reset your password',
      paragraphs: [
        `Someone asked to reset the password of your ${escapeHtml(PRODUCT)} account${ip === null ? '' : ` (the request came from IP address ${escapeHtml(ip)})`}.`,
      ],
      action: { label: 'Choose a new password', href: link },
      footnotes: [
        `The link can be used once and expires on ${escapeHtml(expires)}.`,
        'If you did not ask for this, you can ignore this email: your password stays unchanged.',
      ],
    }),
  };
  assertMailHeadersSafe(message);
  return message;
}

export interface PasswordChangedMailInput {
  readonly to: string;
  readonly tenantId: string;
  readonly at: Date;
}

/**
 * The notice after a password change. It carries no link (nothing secret); unlike the other two, an
 * unexpected one must not be ignored, so it says what to do instead.
 */
export function passwordChangedMail(input: PasswordChangedMailInput): MailMessage {
  const when = timeInWords(input.at);
  const subject = 'Your password was changed';
  const message: MailMessage = {
    to: input.to,
    subject,
    kind: 'password-changed',
    tenantId: input.tenantId,
    text: renderText([
      'Hello,',
      '',
      `The password of your ${PRODUCT} account was changed on ${when}.`,
      '',
      'If you made this change, you can ignore this email.',
      'If you did not, reset your password now and tell your administrator.',
    ]),
    html: renderHtml(subject, {
      heading: 'Your password was changed',
      paragraphs: [`The password of your ${escapeHtml(PRODUCT)} account was changed on ${escapeHtml(when)}.`],
      footnotes: ['If you made this change, you can ignore this email.', '<strong>If you did not, reset your password now and tell your administrator.</strong>'],
    }),
  };
  assertMailHeadersSafe(message);
  return message;
}
