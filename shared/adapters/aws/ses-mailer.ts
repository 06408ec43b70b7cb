/**
 * The AWS Mailer: SESv2 SendEmail with simple (text + HTML) content. Local mode uses the OutboxMailer
 * instead (shared/adapters/local/outbox-mailer.ts); SES has no local stand-in.
 */
import { SendEmailCommand, type MessageTag, type SESv2Client, type SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import { AppError, InternalError, UnavailableError } from '../../domain/errors';
import { assertMailHeadersSafe } from '../../domain/identity/mail-templates';
import type { MailMessage, Mailer } from '../../domain/identity/ports';

export interface SesMailerOptions {
  readonly client: SESv2Client;
  /** The verified sender (the MAIL_SENDER configuration), e.g. `"Control Plane" <no-reply@example.com>`. */
  readonly from: string;
  /** Routes events (bounces, complaints, deliveries) to the configuration set's destinations. */
  readonly configurationSetName?: string;
}

/** Errors that go away if the caller retries later: the client sees 503 with Retry-After. */
const TRANSIENT = new Set(['TooManyRequestsException', 'LimitExceededException', 'ThrottlingException', 'Throttling', 'ServiceUnavailable']);

/** SES tag names and values: ASCII letters, digits, `_` and `-`, at most 256 characters. */
export function sesTagValue(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 256);
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : 'unknown';
}

function isThrottling(err: unknown): boolean {
  if (TRANSIENT.has(errorName(err))) return true;
  // The SDK marks throttling errors it knows about (e.g. generic 429s) even when the name is unfamiliar.
  const retryable = (err as { $retryable?: { throttling?: boolean } } | null)?.$retryable;
  return retryable?.throttling === true;
}

/**
 * SES error messages can quote the recipient or sender address ("Email address is not verified. The
 * following identities failed the check …: alice@example.com"). The cause we keep for the logs carries the
 * error name and the SES request id, which is what AWS support needs, and never the message.
 */
function scrubbedCause(err: unknown): Error {
  const requestId = (err as { $metadata?: { requestId?: string } } | null)?.$metadata?.requestId;
  const cause = new Error(`SES ${errorName(err)}${requestId ? ` (request ${requestId})` : ''}`);
  cause.name = errorName(err);
  return cause;
}

export function translateSesError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const name = errorName(err);
  if (isThrottling(err)) return new UnavailableError(`ses SendEmail throttled: ${name}`, scrubbedCause(err));
  // MessageRejected, MailFromDomainNotVerifiedException, AccountSuspendedException, SendingPausedException,
  // BadRequestException, …: a configuration or account problem an operator must fix, not the caller.
  return new InternalError(`ses SendEmail failed: ${name}`, scrubbedCause(err));
}

export class SesMailer implements Mailer {
  private readonly client: SESv2Client;
  private readonly from: string;
  private readonly configurationSetName: string | undefined;

  constructor(options: SesMailerOptions) {
    // Fail at cold start, not at the first invitation, when the stack forgot MAIL_SENDER.
    if (options.from.trim() === '') throw new InternalError('SesMailer needs a sender address (MAIL_SENDER)');
    this.client = options.client;
    this.from = options.from;
    this.configurationSetName = options.configurationSetName;
  }

  async send(message: MailMessage): Promise<{ messageId: string }> {
    assertMailHeadersSafe(message);
    const tags: MessageTag[] = [{ Name: 'kind', Value: sesTagValue(message.kind) }];
    if (message.tenantId !== null && message.tenantId !== '') tags.push({ Name: 'tenant', Value: sesTagValue(message.tenantId) });
    const input: SendEmailCommandInput = {
      FromEmailAddress: this.from,
      Destination: { ToAddresses: [message.to] },
      Content: {
        Simple: {
          Subject: { Data: message.subject, Charset: 'UTF-8' },
          Body: {
            Text: { Data: message.text, Charset: 'UTF-8' },
            Html: { Data: message.html, Charset: 'UTF-8' },
          },
        },
      },
      EmailTags: tags,
      ...(this.configurationSetName !== undefined ? { ConfigurationSetName: this.configurationSetName } : {}),
    };
    let messageId: string | undefined;
    try {
      messageId = (await this.client.send(new SendEmailCommand(input))).MessageId;
    } catch (err) {
      throw translateSesError(err);
    }
    if (messageId === undefined || messageId === '') throw new InternalError('ses SendEmail returned no MessageId');
    return { messageId };
  }
}
