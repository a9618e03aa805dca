/** Lambda entry of get-activation-status (what CDK's NodejsFunction bundles). */
import { createGetActivationStatusHandler } from './get-activation-status.handler';

export const handler = createGetActivationStatusHandler(process.env);
