/** The local Step Functions endpoint: what local mode and the tests import. */
export {
  LocalStepFunctions,
  type LocalStepFunctionsLogger,
  type LocalStepFunctionsOptions,
  stateMachineArn,
} from './local-step-functions';
export {
  type LocalStateMachine,
  LAMBDA_INVOKE_RESOURCE,
  type RetryIntervalOverrides,
} from './compiled-state-machine';
export { functionArn } from '../lambda-context';
export type { LocalFunction, LocalTaskHandler } from './lambda-invocation';
