/**
 * What the Lambda runtime hands a handler besides its event: the function's ARN and a
 * Lambda-shaped `Context`. Shared by the local stand-ins that run Lambda handlers in-process
 * (the Step Functions tasks and the DynamoDB stream poller), so that a handler sees the same
 * context whichever of them calls it, and the same one it sees on AWS.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/** The account in local ARNs, as DynamoDB Local and other AWS emulators use. */
export const LOCAL_ACCOUNT_ID = '000000000000';
/** Lambda's own default memory size. */
const LAMBDA_DEFAULT_MEMORY_MB = 128;

export function functionArn(region: string, accountId: string, functionName: string): string {
  return `arn:aws:lambda:${region}:${accountId}:function:${functionName}`;
}

/** The function an invocation runs, as its context reports it. */
export interface LambdaFunctionIdentity {
  readonly functionName: string;
  readonly region: string;
  readonly accountId: string;
  /** The function's timeout; `getRemainingTimeInMillis` counts down from it. */
  readonly timeoutMs: number;
  /** Default 128, as on Lambda. */
  readonly memoryMb?: number;
}

/** Where the deprecated `done`/`fail`/`succeed` send the invocation's outcome. */
export interface CallbackCompletion {
  resolve(result: unknown): void;
  reject(error: unknown): void;
}

export interface LambdaContextOptions {
  /** When the invocation starts: its deadline and log stream day count from it. */
  readonly now?: number;
  /**
   * Lets the deprecated callback-style completion end the invocation. Without it, calling
   * `done`, `fail` or `succeed` throws, asking for a promise instead.
   */
  readonly completion?: CallbackCompletion;
}

function callbackStyleRefused(): never {
  throw new Error('Callback-style completion is not supported: return a promise instead.');
}

/** A Lambda `Context` for one invocation, its deadline starting `now`. */
export function lambdaContext(
  fn: LambdaFunctionIdentity,
  { now = Date.now(), completion }: LambdaContextOptions = {},
): Context {
  const deadline = now + fn.timeoutMs;
  const day = new Date(now).toISOString().slice(0, 10).replaceAll('-', '/');
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fn.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn(fn.region, fn.accountId, fn.functionName),
    memoryLimitInMB: String(fn.memoryMb ?? LAMBDA_DEFAULT_MEMORY_MB),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${fn.functionName}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    ...(completion
      ? {
          done: (error?: Error, result?: unknown) =>
            error ? completion.reject(error) : completion.resolve(result),
          fail: (error: Error | string) => completion.reject(error),
          succeed: (result: unknown) => completion.resolve(result),
        }
      : { done: callbackStyleRefused, fail: callbackStyleRefused, succeed: callbackStyleRefused }),
  };
}
