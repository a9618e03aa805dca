/**
 * The Lambdas of the activation pipeline, in one place: their entry files (what CDK's
 * NodejsFunction bundles) and timeouts, read by the CDK stack and by the local runner.
 *
 * The timeouts are tied to the state machine and the core: each task's TimeoutSeconds in
 * the `.asl.json` is longer than its function's timeout (so Lambda reports the timeout,
 * not the task), and send-activation-mail's timeout is shorter than the send claim's
 * lease (ACTIVATION_MAIL_LEASE_SECONDS, 60 s by default), so an attempt ends before
 * another may take its claim over. lambdas/state-machine.spec.ts checks both.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AWS_PRINCIPALS, type AwsPrincipal } from '../src/platform/aws/principals';

export interface PipelineFunction {
  /** The folder under lambdas/, the local function name, and the principal its clients name. */
  readonly name: AwsPrincipal;
  /**
   * The Lambda entry file; its export `handler` is the function's handler. `index.ts`
   * beside the sources, `index.js` when this module runs from the build output (dist/).
   */
  readonly entry: string;
  readonly timeoutSeconds: number;
}

function pipelineFunction(name: AwsPrincipal, timeoutSeconds: number): PipelineFunction {
  const source = join(__dirname, name, 'index.ts');
  const entry = existsSync(source) ? source : join(__dirname, name, 'index.js');
  return { name, entry, timeoutSeconds };
}

export const USER_TABLE_TRIGGER_FUNCTION = pipelineFunction(AWS_PRINCIPALS.userTableTrigger, 30);
export const GET_ACTIVATION_STATUS_FUNCTION = pipelineFunction(
  AWS_PRINCIPALS.getActivationStatus,
  10,
);
export const SEND_ACTIVATION_MAIL_FUNCTION = pipelineFunction(
  AWS_PRINCIPALS.sendActivationMail,
  30,
);

export const PIPELINE_FUNCTIONS: readonly PipelineFunction[] = [
  USER_TABLE_TRIGGER_FUNCTION,
  GET_ACTIVATION_STATUS_FUNCTION,
  SEND_ACTIVATION_MAIL_FUNCTION,
];
