import { SendEmailCommand, SESClient, SESServiceException } from '@aws-sdk/client-ses';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { MailNotSentError, type OutgoingMail } from '../../src/activation';
import { SesMailer, sesAddress } from './ses-mailer';

const MAIL: OutgoingMail = {
  to: 'alice@example.org',
  subject: 'Activate your Digital Card Store account',
  text: 'Dear Zoë, …',
  html: '<p>Dear Zoë, …</p>',
};
const FROM = 'Digital Card Store <no-reply@card-store.example>';

function serviceError(name: string, httpStatusCode: number): SESServiceException {
  return new SESServiceException({
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
    message: `${name} happened`,
  });
}

describe('SesMailer (aws-sdk-client-mock on the SES client)', () => {
  let ses: AwsClientStub<SESClient>;
  let mailer: SesMailer;

  beforeAll(() => {
    ses = mockClient(SESClient);
    mailer = new SesMailer(new SESClient({ region: 'eu-west-1' }), FROM);
  });

  beforeEach(() => ses.reset());

  afterAll(() => ses.restore());

  it('sends one SendEmail with the sender, both parts and UTF-8', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });

    await mailer.send(MAIL);

    expect(ses.commandCalls(SendEmailCommand).map((call) => call.args[0].input)).toEqual([
      {
        Source: FROM,
        Destination: { ToAddresses: ['alice@example.org'] },
        Message: {
          Subject: { Data: MAIL.subject, Charset: 'UTF-8' },
          Body: {
            Text: { Data: MAIL.text, Charset: 'UTF-8' },
            Html: { Data: MAIL.html, Charset: 'UTF-8' },
          },
        },
      },
    ]);
  });

  it.each([
    ['Throttling', 400],
    ['MessageRejected', 400],
    ['MailFromDomainNotVerifiedException', 400],
    ['ServiceUnavailable', 503],
  ])('turns an SES refusal %s (HTTP %i) into MailNotSentError', async (name, status) => {
    const refusal = serviceError(name, status);
    ses.on(SendEmailCommand).rejects(refusal);

    const sending = mailer.send(MAIL);

    await expect(sending).rejects.toBeInstanceOf(MailNotSentError);
    await expect(sending).rejects.toMatchObject({
      message: `SES refused the mail: ${name} (HTTP ${status})`,
      cause: refusal,
    });
  });

  it.each([
    [
      'an InternalFailure (HTTP 500), which may come after SES took the mail',
      serviceError('InternalFailure', 500),
    ],
    ['a timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError', $metadata: {} })],
    ['a dropped connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
  ])('rethrows %s as it is: the outcome is unknown', async (_label, error) => {
    ses.on(SendEmailCommand).rejects(error);

    await expect(mailer.send(MAIL)).rejects.toBe(error);
  });
});

describe('sesAddress', () => {
  it.each([
    ['alice@example.org', 'alice@example.org'],
    ['Zoë@Bücher.example', 'Zoë@xn--bcher-kva.example'],
    ['a@李.example', 'a@xn--7qv.example'],
  ])('sends %s as %s', (address, expected) => {
    expect(sesAddress(address)).toBe(expected);
  });
});
