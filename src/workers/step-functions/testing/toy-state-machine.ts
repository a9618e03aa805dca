/**
 * A small state machine for the endpoint's tests, shaped like the real one (Task, Choice,
 * Task with Retry and Catch, Fail, Pass) but with scripted handlers, so that each test says
 * what a task does: answer, throw a named error, hang, or wait for the test to let it go.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { LAMBDA_INVOKE_RESOURCE } from '../compiled-state-machine';
import { functionArn, type LocalStateMachine } from '../index';
import { LocalStepFunctions, type LocalStepFunctionsOptions } from '../local-step-functions';

export const REGION = 'us-east-1';
export const ACCOUNT = '000000000000';
export const TOY_NAME = 'SF_Toy_Deliver';
const GREET_ARN = functionArn(REGION, ACCOUNT, 'toy-greet');
const DELIVER_ARN = functionArn(REGION, ACCOUNT, 'toy-deliver');

/** Greet (Lambda ARN) → IsVip (Choice) → Deliver (lambda:invoke, Retry, Catch) → Done. */
export const toyDefinition = {
  Comment: 'Greets a person and, for VIPs, delivers a mail',
  StartAt: 'Greet',
  States: {
    Greet: { Type: 'Task', Resource: GREET_ARN, ResultPath: '$.greeting', Next: 'IsVip' },
    IsVip: {
      Type: 'Choice',
      // Like AWS, the engine fails on a Variable that is not there: test presence first.
      Choices: [
        {
          And: [
            { Variable: '$.vip', IsPresent: true },
            { Variable: '$.vip', BooleanEquals: true },
          ],
          Next: 'Deliver',
        },
      ],
      Default: 'Done',
    },
    Deliver: {
      Type: 'Task',
      Resource: LAMBDA_INVOKE_RESOURCE,
      Parameters: { FunctionName: DELIVER_ARN, 'Payload.$': '$' },
      ResultSelector: { 'delivered.$': '$.Payload.delivered' },
      ResultPath: '$.delivery',
      Retry: [
        { ErrorEquals: ['MailDeliveryError'], IntervalSeconds: 5, MaxAttempts: 2, BackoffRate: 2 },
      ],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'DeliveryFailed' }],
      Next: 'Done',
    },
    DeliveryFailed: { Type: 'Fail', ErrorPath: '$.failure.Error', CausePath: '$.failure.Cause' },
    Done: { Type: 'Pass', End: true },
  },
};

export class MailDeliveryError extends Error {
  override readonly name = 'MailDeliveryError';
}

type Step = (event: unknown, context: Context) => Promise<unknown>;

/** What the toy's functions do; tests replace the steps. */
export interface ToyScript {
  greet: Step;
  /** Consumed one per call; when empty, `deliverDefault` runs. */
  deliverSteps: Step[];
  deliverDefault: Step;
  readonly contexts: Context[];
  readonly deliverEvents: unknown[];
}

export function toyScript(): ToyScript {
  const script: ToyScript = {
    greet: async (event) => `Hello ${(event as { name?: string }).name ?? 'nobody'}`,
    deliverSteps: [],
    deliverDefault: async () => ({ delivered: true }),
    contexts: [],
    deliverEvents: [],
  };
  return script;
}

export function toyStateMachine(script: ToyScript, deliverTimeoutSeconds = 3): LocalStateMachine {
  return {
    name: TOY_NAME,
    definition: toyDefinition,
    taskHandlers: {
      [GREET_ARN]: {
        functionName: 'toy-greet',
        memoryMb: 256,
        timeoutSeconds: 10,
        handler: (event, context) => {
          script.contexts.push(context);
          return script.greet(event, context);
        },
      },
      [DELIVER_ARN]: {
        functionName: 'toy-deliver',
        timeoutSeconds: deliverTimeoutSeconds,
        handler: (event, context) => {
          script.deliverEvents.push(event);
          const step = script.deliverSteps.shift() ?? script.deliverDefault;
          return step(event, context);
        },
      },
    },
  };
}

/** A promise a handler waits on until the test releases it. */
export function gate(): { wait: () => Promise<void>; release: () => void } {
  const { promise, resolve } = Promise.withResolvers<void>();
  return { wait: () => promise, release: () => resolve() };
}

export async function startToy(
  script: ToyScript,
  options: Partial<LocalStepFunctionsOptions> & { deliverTimeoutSeconds?: number } = {},
): Promise<{ service: LocalStepFunctions; client: SFNClient; toyArn: string }> {
  const { deliverTimeoutSeconds, ...rest } = options;
  const service = await LocalStepFunctions.start({
    port: 0,
    region: REGION,
    stateMachines: [toyStateMachine(script, deliverTimeoutSeconds)],
    retryIntervalOverrides: 0,
    ...rest,
  });
  const client = new SFNClient({
    endpoint: service.endpoint,
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  return { service, client, toyArn: service.stateMachineArn(TOY_NAME) };
}
