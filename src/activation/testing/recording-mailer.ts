import { Mailer, MailNotSentError, type OutgoingMail } from '..';

/**
 * - `not-sent`: the mail service refused the message (MailNotSentError): certainly not sent.
 * - `outcome-unknown`: the call failed in a way that may have come after the service took
 *   the message (a timeout, a dropped connection): perhaps sent.
 */
export type MailFailure = 'not-sent' | 'outcome-unknown';

/**
 * A Mailer for tests: records every mail and can be told to fail the next calls, either
 * as a refusal (MailNotSentError) or with an unknown outcome (any other error).
 */
export class RecordingMailer extends Mailer {
  /** Mails the fake accepted, in order. */
  readonly sent: OutgoingMail[] = [];
  /** Every call, failed ones included: an `outcome-unknown` mail may have reached the user. */
  readonly attempts: OutgoingMail[] = [];
  private readonly plannedFailures: MailFailure[] = [];

  /** Makes the next `times` calls fail with `failure`, after any failures already planned. */
  failNext(failure: MailFailure, times = 1): this {
    for (let i = 0; i < times; i++) this.plannedFailures.push(failure);
    return this;
  }

  async send(mail: OutgoingMail): Promise<void> {
    this.attempts.push(mail);
    const failure = this.plannedFailures.shift();
    if (failure === 'not-sent') {
      throw new MailNotSentError('MessageRejected: Email address is not verified.');
    }
    if (failure === 'outcome-unknown') {
      const timeout = new Error('Connection timed out after 5000 ms');
      timeout.name = 'TimeoutError';
      throw timeout;
    }
    this.sent.push(mail);
  }
}

/** The activation link in a mail's text part. */
export function activationLinkIn(mail: OutgoingMail): URL {
  const line = mail.text.split('\n').find((candidate) => /^https?:\/\/\S+$/.test(candidate));
  if (!line) throw new Error(`no activation link in the mail to ${mail.to}`);
  return new URL(line);
}

/** The token of the activation link in a mail. */
export function activationTokenIn(mail: OutgoingMail): string {
  const token = activationLinkIn(mail).searchParams.get('token');
  if (token === null) throw new Error(`the activation link to ${mail.to} has no token`);
  return token;
}
