/** Lambda entry of send-activation-mail (what CDK's NodejsFunction bundles). */
import { createSendActivationMailHandler } from './send-activation-mail.handler';

export const handler = createSendActivationMailHandler(process.env);
