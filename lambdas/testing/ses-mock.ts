/**
 * SES failures the local SES cannot produce, for the Lambdas' tests (aws-sdk-client-mock):
 * a timeout or a dropped connection, whose outcome is unknown. (A refusal it can:
 * `LocalSes.start(port, { throttleRate })`.) Every other call is handed on to the local SES.
 */
import { SendEmailCommand, type SendEmailCommandOutput, SESClient } from '@aws-sdk/client-ses';

// Taken when this module loads, before any mockClient(SESClient) replaces it.
const realSend: (this: SESClient, command: SendEmailCommand) => Promise<SendEmailCommandOutput> =
  SESClient.prototype.send;

/** For `callsFake`: the send as it would have gone without the mock, to the local SES. */
export const sendForReal = (input: SendEmailCommand['input'], getClient: () => unknown) =>
  realSend.call(getClient() as SESClient, new SendEmailCommand(input));
