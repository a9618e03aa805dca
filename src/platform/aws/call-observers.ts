/**
 * Who may watch the AWS calls the components make: tests, which record each call and prove
 * it allowed by the component's IAM role (infra/least-privilege.spec.ts). Nothing registers
 * an observer in production, where reporting a call is a loop over an empty list.
 *
 * The list lives on a global symbol rather than in this module, so that an observer
 * registered before a Lambda bundle loads (a test's child process) reaches the bundle's own
 * copy of this module, and one registered by a jest setup file reaches every module of the
 * test file.
 */
import type { AwsPrincipal } from './principals';

/** One call, as the SDK (or a local stand-in playing an AWS service) makes it. */
export interface ObservedAwsCall {
  /** The component whose role signs the call on AWS. */
  readonly principal: AwsPrincipal;
  /** The SDK client's name without `Client`: `DynamoDB`, `DynamoDBStreams`, `SES`, `SFN`, `Lambda`. */
  readonly service: string;
  /** The API operation: `GetItem`, `TransactWriteItems`, `SendEmail`, `Invoke`, ... */
  readonly operation: string;
  readonly region: string;
  /** The operation's input as sent (for DynamoDB: marshalled), which names the resources. */
  readonly input: unknown;
}

export type AwsCallObserver = (call: ObservedAwsCall) => void;

/** `Symbol.for` of this names the global list (a child process's recorder uses it too). */
export const AWS_CALL_OBSERVERS_KEY = 'card-store.aws-call-observers';
const OBSERVERS = Symbol.for(AWS_CALL_OBSERVERS_KEY);

type WithObservers = typeof globalThis & { [OBSERVERS]?: AwsCallObserver[] };

/** Registers `observer` for every call reported from now on; returns its removal. */
export function observeAwsCalls(observer: AwsCallObserver): () => void {
  const global = globalThis as WithObservers;
  const observers = (global[OBSERVERS] ??= []);
  observers.push(observer);
  return () => {
    const index = observers.indexOf(observer);
    if (index >= 0) observers.splice(index, 1);
  };
}

/** Tells every observer of `call`. An observer that throws fails the call (tests only). */
export function reportAwsCall(call: ObservedAwsCall): void {
  for (const observer of (globalThis as WithObservers)[OBSERVERS] ?? []) observer(call);
}
