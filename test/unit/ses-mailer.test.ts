import {
  AccountSuspendedException,
  LimitExceededException,
  MailFromDomainNotVerifiedException,
  MessageRejected,
  SESv2Client,
  SendEmailCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { SesMailer, sesTagValue } from '../../shared/adapters/aws/ses-mailer';
import { AppError } from '../../shared/domain/errors';
import type { MailMessage } from '../../shared/domain/identity/ports';
import { errorFields } from '../../shared/http/logger';
import { problem } from '../../shared/http/response';

// SES has no local stand-in: these tests mock the client and assert the exact command sent.
const ses = mockClient(SESv2Client);
afterEach(() => ses.reset());

const FROM = '"SaaS Control Plane" <no-reply@mail.example.com>';
const message: MailMessage = {
  to: 'alice@customer.example',
  subject: 'Reset your password',
  text: 'Open https://console.example.com/reset?token=s3cret\n',
  html: '<p><a href="https://console.example.com/reset?token=s3cret">Reset</a></p>',
  kind: 'password-reset',
  tenantId: 't-01J9Z8',
};

function mailer(configurationSetName?: string): SesMailer {
  return new SesMailer({ client: new SESv2Client({ region: 'eu-central-1' }), from: FROM, ...(configurationSetName ? { configurationSetName } : {}) });
}

async function failure(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AppError);
  return e as AppError;
}

describe('SesMailer (SESv2 SendEmail)', () => {
  it('FR-AUTH-004: sends one SendEmail with the sender, recipient, subject, both bodies in UTF-8, and kind/tenant tags', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: '0107018f-ses-id' });
    await expect(mailer('control-plane-mail').send(message)).resolves.toEqual({ messageId: '0107018f-ses-id' });
    const calls = ses.commandCalls(SendEmailCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      FromEmailAddress: FROM,
      Destination: { ToAddresses: ['alice@customer.example'] },
      Content: {
        Simple: {
          Subject: { Data: 'Reset your password', Charset: 'UTF-8' },
          Body: {
            Text: { Data: message.text, Charset: 'UTF-8' },
            Html: { Data: message.html, Charset: 'UTF-8' },
          },
        },
      },
      EmailTags: [
        { Name: 'kind', Value: 'password-reset' },
        { Name: 'tenant', Value: 't-01J9Z8' },
      ],
      ConfigurationSetName: 'control-plane-mail',
    });
  });

  it('omits the tenant tag for platform mail and the configuration set when none is configured', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-2' });
    await mailer().send({ ...message, tenantId: null, kind: 'invitation' });
    const input = ses.commandCalls(SendEmailCommand)[0]?.args[0].input;
    expect(input?.EmailTags).toEqual([{ Name: 'kind', Value: 'invitation' }]);
    expect(input).not.toHaveProperty('ConfigurationSetName');
  });

  it('tag values are reduced to the charset SES accepts (letters, digits, _ and -) and 256 characters', async () => {
    expect(sesTagValue('acme.corp/ä b:1')).toBe('acme_corp___b_1');
    expect(sesTagValue('x'.repeat(300))).toHaveLength(256);
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-3' });
    await mailer().send({ ...message, tenantId: 'tenant with spaces@x' });
    expect(ses.commandCalls(SendEmailCommand)[0]?.args[0].input.EmailTags?.[1]).toEqual({ Name: 'tenant', Value: 'tenant_with_spaces_x' });
  });

  it('CON-SEC-009: refuses a message whose subject would inject a header, without calling SES', async () => {
    const e = await failure(mailer().send({ ...message, subject: 'Hi\r\nBcc: eve@example.com' }));
    expect(e.code).toBe('ERR-SYS-500');
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
  });

  it('refuses to start without a sender (MAIL_SENDER unset)', () => {
    expect(() => new SesMailer({ client: new SESv2Client({ region: 'eu-central-1' }), from: ' ' })).toThrow(AppError);
  });

  it.each([
    ['TooManyRequestsException', new TooManyRequestsException({ message: 'Too many requests for alice@customer.example', $metadata: { requestId: 'req-1' } })],
    ['LimitExceededException', new LimitExceededException({ message: 'Daily message quota exceeded', $metadata: {} })],
    ['ThrottlingException', Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })],
  ])('ERR-SYS-503: %s is a retryable 503 with Retry-After', async (_name, sdkError) => {
    ses.on(SendEmailCommand).rejects(sdkError);
    const e = await failure(mailer().send(message));
    expect(e.code).toBe('ERR-SYS-503');
    expect(e.status).toBe(503);
    expect(e.headers['retry-after']).toBe('5');
    expect(e.expose).toBe(false);
  });

  it.each([
    ['MessageRejected', new MessageRejected({ message: 'Email address is not verified. The following identities failed the check in region EU-CENTRAL-1: alice@customer.example', $metadata: { requestId: 'req-2' } })],
    ['MailFromDomainNotVerifiedException', new MailFromDomainNotVerifiedException({ message: 'MAIL FROM domain mail.example.com not verified for alice@customer.example', $metadata: {} })],
    ['AccountSuspendedException', new AccountSuspendedException({ message: 'Account suspended; cannot send to alice@customer.example', $metadata: {} })],
    ['Error', new Error('socket hang up while sending to alice@customer.example')],
  ])('ERR-SYS-500: %s is a 500 that exposes neither the address nor the SES message', async (name, sdkError) => {
    ses.on(SendEmailCommand).rejects(sdkError);
    const e = await failure(mailer().send(message));
    expect(e.code).toBe('ERR-SYS-500');
    expect(e.status).toBe(500);
    expect(e.expose).toBe(false);
    expect(e.detail).toBeUndefined();
    // What the client gets:
    const body = problem(e, 'r-1', '/v1/password-resets').body;
    expect(body).not.toContain('alice@customer.example');
    expect(body).not.toContain(sdkError.message);
    // What the logs get: the error name (and SES request id), never the SES message that quotes the address.
    const logged = JSON.stringify(errorFields(e));
    expect(logged).toContain(name);
    expect(logged).not.toContain('alice@customer.example');
    expect(logged).not.toContain('s3cret');
  });

  it('ERR-SYS-500: a reply without MessageId is an internal error, not a silent success', async () => {
    ses.on(SendEmailCommand).resolves({});
    expect((await failure(mailer().send(message))).code).toBe('ERR-SYS-500');
  });
});
