import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/domain/errors';
import { assertMailHeadersSafe, escapeHtml, invitationMail, passwordChangedMail, passwordResetMail, timeInWords } from '../../shared/domain/identity/mail-templates';

const expiresAt = new Date('2025-01-02T10:05:00Z');
const invitation = {
  to: 'new.user@example.com',
  tenantName: 'Acme',
  acceptUrl: 'https://console.example.com/invitations/accept?token=inv-secret-123',
  expiresAt,
  tenantId: 't-acme',
};
const reset = {
  to: 'user@example.com',
  resetUrl: 'https://console.example.com/reset?token=reset-secret-456',
  expiresAt,
  tenantId: 't-acme',
};

function refusal(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected the template to refuse');
}

describe('Mail templates', () => {
  it('FR-TENANT-001: the invitation names the tenant and inviter, carries the link in both parts, and its kind and tenant', () => {
    const m = invitationMail({ ...invitation, inviterName: 'Alice Admin' });
    expect(m).toMatchObject({ to: 'new.user@example.com', kind: 'invitation', tenantId: 't-acme', subject: 'You have been invited to join Acme' });
    expect(m.text).toContain('Alice Admin has invited you to join Acme');
    expect(m.text).toContain('\nhttps://console.example.com/invitations/accept?token=inv-secret-123\n');
    expect(m.html).toContain('href="https://console.example.com/invitations/accept?token=inv-secret-123"');
    expect(m.html).toContain('<strong>Alice Admin</strong> has invited you');
  });

  it('FR-TENANT-001: without an inviter the invitation still reads well', () => {
    const m = invitationMail(invitation);
    expect(m.text).toContain('You have been invited to join Acme on');
    expect(m.html).toContain('You have been invited to join <strong>Acme</strong> on');
  });

  it('FR-TENANT-001 / FR-AUTH-004: expiry is stated in words, in UTC, and the mail says it can be ignored if unexpected', () => {
    expect(timeInWords(expiresAt)).toBe('Thursday, 2 January 2025 at 10:05 UTC');
    for (const m of [invitationMail(invitation), passwordResetMail(reset)]) {
      for (const part of [m.text, m.html]) {
        expect(part).toContain('expires on Thursday, 2 January 2025 at 10:05 UTC');
        expect(part).toMatch(/If you did not (expect|ask for) this.*you can ignore this email/);
      }
    }
  });

  it('FR-AUTH-004: the reset mail carries the link, the request IP when it is one, and nothing from a malformed IP', () => {
    const m = passwordResetMail({ ...reset, requestIp: '203.0.113.7' });
    expect(m).toMatchObject({ kind: 'password-reset', tenantId: 't-acme', subject: 'Reset your password' });
    expect(m.text).toContain('\nhttps://console.example.com/reset?token=reset-secret-456\n');
    expect(m.html).toContain('href="https://console.example.com/reset?token=reset-secret-456"');
    expect(m.text).toContain('IP address 203.0.113.7');
    const spoofed = passwordResetMail({ ...reset, requestIp: '<b>1.2.3.4</b>' });
    expect(spoofed.text).not.toContain('IP address');
    expect(spoofed.html).not.toContain('<b>1.2.3.4');
  });

  it('FR-AUTH-004: the password-changed notice has no link and tells an unexpecting recipient what to do', () => {
    const m = passwordChangedMail({ to: 'user@example.com', tenantId: 't-acme', at: new Date('2025-03-04T05:06:00Z') });
    expect(m.kind).toBe('password-changed');
    expect(m.text).toContain('changed on Tuesday, 4 March 2025 at 05:06 UTC');
    expect(m.text).toContain('If you did not, reset your password now');
    expect(m.html).not.toMatch(/href=/);
  });

  it('CON-SEC-009: a tenant named <script>alert(1)</script> appears escaped in the HTML, never as markup', () => {
    const m = invitationMail({ ...invitation, tenantName: '<script>alert(1)</script>', inviterName: '"><img src=x onerror=alert(2)>' });
    expect(m.html).not.toContain('<script>');
    expect(m.html).not.toContain('<img');
    expect(m.html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(m.html).toContain('&#34;&#62;&#60;img src=x onerror=alert(2)&#62;');
    // The text part is plain text: it keeps the name as typed (a mail client does not render it).
    expect(m.text).toContain('join <script>alert(1)</script> on');
  });

  it('CON-SEC-009: CR/LF in a tenant name cannot inject headers: the subject stays on one line', () => {
    const m = invitationMail({ ...invitation, tenantName: 'Acme\r\nBcc: victim@example.com\nX-Evil: 1' });
    expect(m.subject).toBe('You have been invited to join Acme Bcc: victim@example.com X-Evil: 1');
    expect(m.subject).not.toMatch(/[\r\n]/);
    // Nor can it forge lines in the text part.
    expect(m.text).not.toMatch(/^Bcc:/m);
    for (const sep of ['\u2028', '\u0085', '\t', '\u0000']) expect(invitationMail({ ...invitation, tenantName: `A${sep}B` }).subject).toBe('You have been invited to join A B');
  });

  it('CON-SEC-009: a hand-built message with a header break in subject or recipient is refused', () => {
    expect(refusal(() => assertMailHeadersSafe({ to: 'a@example.com', subject: 'Hi\r\nBcc: x@example.com' })).code).toBe('ERR-SYS-500');
    expect(refusal(() => assertMailHeadersSafe({ to: 'a@example.com\r\nBcc: x@example.com', subject: 'Hi' })).code).toBe('ERR-SYS-500');
    expect(refusal(() => invitationMail({ ...invitation, to: 'a@example.com, b@example.com' })).code).toBe('ERR-SYS-500');
    expect(refusal(() => passwordChangedMail({ to: 'Eve <eve@example.com>', tenantId: 't', at: expiresAt })).code).toBe('ERR-SYS-500');
  });

  it.each(['javascript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'file:///etc/passwd', 'ftp://example.com/x', '/relative/path', 'https://user:pw@example.com/reset'])(
    'CON-SEC-009: a non-http(s) or credentialed link is refused: %s',
    (url) => {
      const err = refusal(() => passwordResetMail({ ...reset, resetUrl: url }));
      expect(err.code).toBe('ERR-SYS-500');
      // 5xx details stay internal: the URL (a secret) is not exposed.
      expect(err.expose).toBe(false);
      expect(err.message).not.toContain(url);
      expect(refusal(() => invitationMail({ ...invitation, acceptUrl: url })).code).toBe('ERR-SYS-500');
    },
  );

  it('CON-SEC-009: a URL with quotes or angle brackets cannot break out of the href attribute', () => {
    const m = passwordResetMail({ ...reset, resetUrl: 'https://console.example.com/reset?token=a"onmouseover="alert(1)&x=<b>' });
    expect(m.html).not.toContain('"onmouseover=');
    expect(m.html).not.toContain('<b>');
  });

  it('escapeHtml escapes the five HTML metacharacters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#60;/a&#62;');
  });

  it('an invalid expiry date is refused rather than mailed as "Invalid Date"', () => {
    expect(refusal(() => invitationMail({ ...invitation, expiresAt: new Date('nope') })).code).toBe('ERR-SYS-500');
  });
});
