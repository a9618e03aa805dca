/**
 * The core's Mailer on SES (API v1 `SendEmail`; the local stand-in speaks it too).
 *
 * What a failure means decides whether the core may resend at once: an answer from SES
 * that refuses the mail (throttling, a rejected message) means it was certainly not sent
 * (MailNotSentError); a timeout or a dropped connection may have come after SES took the
 * mail, so it is rethrown as it is (outcome unknown).
 */
import { domainToASCII } from 'node:url';
import { SendEmailCommand, type SESClient } from '@aws-sdk/client-ses';
import { Mailer, MailNotSentError, type OutgoingMail } from '../../src/activation';

const CHARSET = 'UTF-8';

export class SesMailer extends Mailer {
  constructor(
    private readonly client: SESClient,
    /** SES `Source`: `addr@domain` or `Name <addr@domain>`, a verified identity on AWS. */
    private readonly fromAddress: string,
  ) {
    super();
  }

  async send(mail: OutgoingMail): Promise<void> {
    try {
      await this.client.send(
        new SendEmailCommand({
          Source: this.fromAddress,
          Destination: { ToAddresses: [sesAddress(mail.to)] },
          Message: {
            Subject: { Data: mail.subject, Charset: CHARSET },
            Body: {
              Text: { Data: mail.text, Charset: CHARSET },
              Html: { Data: mail.html, Charset: CHARSET },
            },
          },
        }),
      );
    } catch (error) {
      const refusal = sesRefusal(error);
      if (refusal) {
        throw new MailNotSentError(`SES refused the mail: ${refusal}`, { cause: error });
      }
      throw error;
    }
  }
}

/**
 * SES takes only ASCII addresses: an internationalised domain goes as Punycode
 * (`zoë@bücher.example` → `zoë@xn--bcher-kva.example`). The core already sends to the
 * delivery address (`deliveryAddress`, ASCII) and never to a non-ASCII local part, which
 * SES would refuse; this stays as a guard for any other caller.
 */
export function sesAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return address;
  const domain = domainToASCII(address.slice(at + 1));
  return domain ? `${address.slice(0, at)}@${domain}` : address;
}

/**
 * The error code when SES answered with a refusal that means "not sent": a modelled
 * service error (the SDK's ServiceException, which carries the HTTP status) with a 4xx
 * status or 503. Other 5xx answers (InternalFailure) may come after the mail was taken,
 * so they count as unknown: a duplicate mail is worse than waiting out the claim's lease.
 * Duck-typed: SDK errors may come from another realm (jest) or a second SDK copy.
 */
export function sesRefusal(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, $fault, $metadata } = error as {
    name?: unknown;
    $fault?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  const status = $metadata?.httpStatusCode;
  if (typeof name !== 'string' || ($fault !== 'client' && $fault !== 'server')) return undefined;
  if (typeof status !== 'number') return undefined;
  return (status >= 400 && status < 500) || status === 503 ? `${name} (HTTP ${status})` : undefined;
}
