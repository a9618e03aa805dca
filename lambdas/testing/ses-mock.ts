/**
 * SES failures for the Lambdas' tests (aws-sdk-client-mock): the local SES never refuses a
 * mail, so a refusal is mocked, and every other call is handed on to the local SES.
 */
import {
  SendEmailCommand,
  type SendEmailCommandOutput,
  SESClient,
  SESServiceException,
} from '@aws-sdk/client-ses';

// Taken when this module loads, before any mockClient(SESClient) replaces it.
const realSend: (this: SESClient, command: SendEmailCommand) => Promise<SendEmailCommandOutput> =
  SESClient.prototype.send;

/** For `callsFake`: the send as it would have gone without the mock, to the local SES. */
export const sendForReal = (input: SendEmailCommand['input'], getClient: () => unknown) =>
  realSend.call(getClient() as SESClient, new SendEmailCommand(input));

/** SES's answer to a send over the account's rate: a modeled refusal, so the mail was not sent. */
export function sesThrottling(): SESServiceException {
  return new SESServiceException({
    name: 'Throttling',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: 'Maximum sending rate exceeded.',
  });
}
