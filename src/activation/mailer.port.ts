import type { OutgoingMail } from './activation-mail';

/** Sends mail (SES in both modes: the local stand-in or AWS). */
export abstract class Mailer {
  /**
   * @throws MailNotSentError when the mail service refused the message, so it was
   *   certainly not sent; any other error leaves the outcome unknown.
   */
  abstract send(mail: OutgoingMail): Promise<void>;
}

/**
 * The mail service answered with an error: the message was not accepted. Any other
 * failure (a timeout, a dropped connection) may have happened after SES accepted it.
 */
export class MailNotSentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MailNotSentError';
  }
}
