/**
 * Runs a Lambda handler function in-process the way the Lambda runtime would: with a
 * Lambda-shaped `Context`, and turning what it throws into the `{errorType, errorMessage,
 * trace}` payload that Step Functions shows as a task's Cause. Handlers written for Lambda
 * run here unchanged, and ASL `Retry`/`Catch` see the same error names as on AWS.
 */
import type { Context } from 'aws-lambda';
import { lambdaContext } from '../lambda-context';

export type LocalTaskHandler = (event: unknown, context: Context) => Promise<unknown>;

/** What Lambda would run for a function: its handler and the settings its context reports. */
export interface LocalFunction {
  readonly functionName: string;
  readonly handler: LocalTaskHandler;
  /** Lambda's function timeout; Lambda's own default is 3 seconds, and so is ours. */
  readonly timeoutSeconds?: number;
  readonly memoryMb?: number;
}

export const LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3;

/** The body the Lambda runtime reports for a failed invocation. */
export interface LambdaErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
}

/** A handler failed: `name` is the Lambda errorType, `message` the Cause Step Functions shows. */
export class LambdaFunctionError extends Error {
  constructor(readonly payload: LambdaErrorPayload) {
    super(JSON.stringify(payload));
    this.name = payload.errorType;
  }
}

/**
 * Mirrors the Node.js runtime's error serialisation: errors by their `name`, anything else
 * thrown by its `typeof`. Duck-typed, because errors from another realm (jest's vm contexts,
 * Node internals) fail `instanceof Error`.
 */
export function lambdaErrorPayload(thrown: unknown): LambdaErrorPayload {
  if (isErrorLike(thrown)) {
    return {
      errorType: thrown.name || 'Error',
      errorMessage: thrown.message,
      trace: typeof thrown.stack === 'string' ? thrown.stack.split('\n') : [],
    };
  }
  return { errorType: typeof thrown, errorMessage: String(thrown), trace: [] };
}

function isErrorLike(value: unknown): value is { name: string; message: string; stack?: unknown } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { name?: unknown }).name === 'string' &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

export interface InvocationTarget {
  readonly fn: LocalFunction;
  readonly region: string;
  readonly accountId: string;
}

/**
 * Invokes the handler once and resolves with its result as JSON (what Lambda would return),
 * or rejects with a {@link LambdaFunctionError}. The function timeout is enforced by the
 * caller (the state machine's task timeout); the context only reports the time left.
 */
export async function invokeLocalFunction(
  target: InvocationTarget,
  event: unknown,
): Promise<unknown> {
  const { fn, region, accountId } = target;
  // The deprecated done/fail/succeed end an invocation too; the first outcome wins.
  const settled = Promise.withResolvers<unknown>();
  const context = lambdaContext(
    {
      functionName: fn.functionName,
      region,
      accountId,
      timeoutMs: (fn.timeoutSeconds ?? LAMBDA_DEFAULT_TIMEOUT_SECONDS) * 1000,
      memoryMb: fn.memoryMb,
    },
    { completion: settled },
  );
  let result: unknown;
  try {
    result = await Promise.race([
      Promise.resolve().then(() => fn.handler(event, context)),
      settled.promise,
    ]);
  } catch (thrown) {
    throw new LambdaFunctionError(lambdaErrorPayload(thrown));
  }
  try {
    // Lambda answers with JSON: `undefined` becomes null, dates become strings.
    return JSON.parse(JSON.stringify(result ?? null)) as unknown;
  } catch (thrown) {
    throw new LambdaFunctionError({
      errorType: 'Runtime.MarshalError',
      errorMessage: `Unable to marshal response: ${lambdaErrorPayload(thrown).errorMessage}`,
      trace: [],
    });
  }
}
