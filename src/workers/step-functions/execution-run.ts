/**
 * One execution on aws-local-stepfunctions, recorded as Step Functions would record it:
 * status, output or error, and the history events the console and GetExecutionHistory show.
 *
 * The engine reports states (entered, exited, failed, retried, caught); the task events
 * (Scheduled, Started, Succeeded, Failed, TimedOut) come from our own invocation of the
 * local function. Both land in one history in the order they happened: the task wrapper
 * lets the engine's event stream drain (one macrotask) before it records its first event.
 */
import { randomUUID } from 'node:crypto';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import type { HistoryEventType } from '@aws-sdk/client-sfn';
import type { StateMachine } from 'aws-local-stepfunctions';
import { reportAwsCall } from '../../platform/aws/call-observers';
import { functionArn } from '../lambda-context';
import type { CompiledStateMachine, TaskBinding } from './compiled-state-machine';
import type { ExecutionRecord, HistoryEventDetails } from './execution-record';
import {
  invokeLocalFunction,
  LAMBDA_DEFAULT_TIMEOUT_SECONDS,
  LambdaFunctionError,
  lambdaErrorPayload,
} from './lambda-invocation';

type EngineRun = ReturnType<StateMachine['run']>;
type EngineEvent = EngineRun['eventLogs'] extends AsyncGenerator<infer E> ? E : never;
type JsonValue = Parameters<StateMachine['run']>[0];
type TerminalEvent = Extract<
  EngineEvent,
  { type: 'ExecutionSucceeded' | 'ExecutionFailed' | 'ExecutionAborted' | 'ExecutionTimeout' }
>;

export interface RunEnvironment {
  readonly region: string;
  readonly accountId: string;
  readonly roleArn: string;
  /** The record changed (persist it). */
  onChange(record: ExecutionRecord): void;
  /** The execution reached a final status. */
  onEnd(record: ExecutionRecord): void;
}

/** A task invocation that has started and not yet ended. */
interface InFlightTask {
  readonly binding: TaskBinding;
  abandoned: boolean;
}

/** Cause fields are strings on the wire; the engine may hand us anything. */
function causeText(cause: unknown): string {
  if (typeof cause === 'string') return cause;
  if (typeof cause === 'object' && cause !== null && typeof (cause as Error).message === 'string') {
    return (cause as Error).message;
  }
  return JSON.stringify(cause) ?? '';
}

const NOT_TRUNCATED = { truncated: false } as const;

export class ExecutionRun {
  /** Settles when the engine is done with this execution (never rejects). */
  readonly done: Promise<void>;
  private finished = false;
  private abortEngine: () => void = () => {};
  private terminal?: TerminalEvent;
  private readonly inFlight: InFlightTask[] = [];

  constructor(
    private readonly machine: CompiledStateMachine,
    readonly record: ExecutionRecord,
    private readonly env: RunEnvironment,
  ) {
    this.done = this.run();
  }

  /** StopExecution: ends the execution now as ABORTED; a running handler finishes unheard. */
  stop(error: string | undefined, cause: string | undefined): void {
    if (this.finished) return;
    this.addEvent('ExecutionAborted', {
      executionAbortedEventDetails: { error, cause },
    });
    this.end('ABORTED', { error, cause });
    this.abortEngine();
  }

  /**
   * The process is stopping: let go of the engine but leave the record RUNNING, so that a
   * restart with the same data folder runs it again.
   */
  detach(): void {
    if (this.finished) return;
    this.finished = true;
    this.abortEngine();
  }

  private async run(): Promise<void> {
    let engineRun: EngineRun;
    try {
      engineRun = this.machine.engine.run(JSON.parse(this.record.input) as JsonValue, {
        overrides: {
          taskResourceLocalHandlers: Object.fromEntries(
            this.machine.tasks.map((binding) => [
              binding.stateName,
              (input: JsonValue) => this.runTask(binding, input),
            ]),
          ),
          retryIntervalOverrides: this.machine.retryIntervalOverrides,
        },
        context: {
          Execution: {
            Id: this.record.executionArn,
            Name: this.record.name,
            RoleArn: this.env.roleArn,
          },
          StateMachine: { Id: this.machine.arn, Name: this.machine.name },
        },
      });
    } catch (error) {
      this.failWithoutEngine(error);
      return;
    }
    this.abortEngine = engineRun.abort;
    const consuming = this.consume(engineRun.eventLogs);
    let outcome: { output: JsonValue } | { error: unknown };
    try {
      outcome = { output: await engineRun.result };
    } catch (error) {
      outcome = { error };
    }
    // The terminal event is dispatched before the result settles; let the consumer see it.
    await Promise.race([consuming, nextMacrotask()]);
    if (this.finished) return;
    this.recordEnd(outcome);
  }

  private async consume(events: AsyncGenerator<EngineEvent>): Promise<void> {
    try {
      for await (const event of events) {
        if (this.finished) return;
        this.onEngineEvent(event);
      }
    } catch (error) {
      // Our own recording failed; the execution still ends through its result.
      this.terminal ??= {
        type: 'ExecutionFailed',
        timestamp: Date.now(),
        Error: 'States.Runtime',
        Cause: causeText(error),
      };
    }
  }

  private onEngineEvent(event: EngineEvent): void {
    switch (event.type) {
      case 'ExecutionStarted':
        this.addEvent(
          'ExecutionStarted',
          {
            executionStartedEventDetails: {
              input: this.record.input,
              inputDetails: NOT_TRUNCATED,
              roleArn: this.env.roleArn,
            },
          },
          event.timestamp,
        );
        return;
      case 'StateEntered':
        this.addEvent(
          `${event.state.type}StateEntered` as HistoryEventType,
          {
            stateEnteredEventDetails: {
              name: event.state.name,
              input: JSON.stringify(event.state.input),
              inputDetails: NOT_TRUNCATED,
            },
          },
          event.timestamp,
        );
        return;
      case 'StateExited':
        this.addEvent(
          `${event.state.type}StateExited` as HistoryEventType,
          {
            stateExitedEventDetails: {
              name: event.state.name,
              output: JSON.stringify(event.state.output ?? null),
              outputDetails: NOT_TRUNCATED,
            },
          },
          event.timestamp,
        );
        return;
      case 'StateFailed':
        if (event.state.type === 'Task' && event.Error === 'States.Timeout') {
          this.recordTaskTimeout(event.state.name, causeText(event.Cause));
        }
        return;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const details = { name: event.parentState.name, index: event.index };
        const key = `${event.type.charAt(0).toLowerCase()}${event.type.slice(1)}EventDetails`;
        this.addEvent(event.type, { [key]: details }, event.timestamp);
        return;
      }
      case 'ExecutionSucceeded':
      case 'ExecutionFailed':
      case 'ExecutionAborted':
      case 'ExecutionTimeout':
        this.terminal = event;
        return;
      default:
        // StateRetried, StateCaught, Parallel branch events: Step Functions shows none of
        // them; the next attempt's task events and the next state tell the story.
        return;
    }
  }

  /** What Step Functions does on AWS with the state machine's role: lambda:InvokeFunction. */
  private reportInvocation(functionName: string): void {
    const { principal } = this.machine;
    if (!principal) return;
    const { region, accountId } = this.env;
    reportAwsCall({
      principal,
      service: 'Lambda',
      operation: 'Invoke',
      region,
      input: { FunctionName: functionArn(region, accountId, functionName) },
    });
  }

  /** The wrapper aws-local-stepfunctions calls for a Task state. */
  private async runTask(binding: TaskBinding, input: JsonValue): Promise<JsonValue> {
    if (this.finished) throw new Error('The execution is no longer running');
    const fn = this.machine.functionFor(binding, input);
    const invokeIntegration = binding.integration === 'lambda:invoke';
    const task: InFlightTask = { binding, abandoned: false };
    this.inFlight.push(task);
    try {
      await nextMacrotask(); // the engine's StateEntered lands in the history first
      const timeoutInSeconds = fn?.timeoutSeconds ?? LAMBDA_DEFAULT_TIMEOUT_SECONDS;
      if (invokeIntegration) {
        this.addTaskEvent(task, 'TaskScheduled', {
          taskScheduledEventDetails: {
            resourceType: 'lambda',
            resource: 'invoke',
            region: this.env.region,
            parameters: JSON.stringify(input),
            timeoutInSeconds,
          },
        });
        this.addTaskEvent(task, 'TaskStarted', {
          taskStartedEventDetails: { resourceType: 'lambda', resource: 'invoke' },
        });
      } else {
        this.addTaskEvent(task, 'LambdaFunctionScheduled', {
          lambdaFunctionScheduledEventDetails: {
            resource: binding.resource,
            input: JSON.stringify(input),
            inputDetails: NOT_TRUNCATED,
            timeoutInSeconds,
          },
        });
        this.addTaskEvent(task, 'LambdaFunctionStarted', {});
      }
      if (!fn) {
        throw new LambdaFunctionError({
          errorType: 'Lambda.ResourceNotFoundException',
          errorMessage: `Function not found: ${JSON.stringify(input)}`,
          trace: [],
        });
      }
      const event = invokeIntegration
        ? typeof input === 'object' && input !== null && !Array.isArray(input)
          ? (input.Payload ?? {})
          : {}
        : input;
      this.reportInvocation(fn.functionName);
      const result = await invokeLocalFunction(
        { fn, region: this.env.region, accountId: this.env.accountId },
        event,
      );
      const output = (
        invokeIntegration
          ? {
              ExecutedVersion: '$LATEST',
              Payload: result,
              SdkHttpMetadata: { HttpStatusCode: 200 },
              SdkResponseMetadata: { RequestId: randomUUID() },
              StatusCode: 200,
            }
          : result
      ) as JsonValue;
      if (invokeIntegration) {
        this.addTaskEvent(task, 'TaskSucceeded', {
          taskSucceededEventDetails: {
            resourceType: 'lambda',
            resource: 'invoke',
            output: JSON.stringify(output),
            outputDetails: NOT_TRUNCATED,
          },
        });
      } else {
        this.addTaskEvent(task, 'LambdaFunctionSucceeded', {
          lambdaFunctionSucceededEventDetails: {
            output: JSON.stringify(output),
            outputDetails: NOT_TRUNCATED,
          },
        });
      }
      return output;
    } catch (thrown) {
      const failure =
        thrown instanceof LambdaFunctionError
          ? thrown
          : new LambdaFunctionError(lambdaErrorPayload(thrown));
      const details = { error: failure.name, cause: failure.message };
      if (invokeIntegration) {
        this.addTaskEvent(task, 'TaskFailed', {
          taskFailedEventDetails: { resourceType: 'lambda', resource: 'invoke', ...details },
        });
      } else {
        this.addTaskEvent(task, 'LambdaFunctionFailed', {
          lambdaFunctionFailedEventDetails: details,
        });
      }
      throw failure;
    } finally {
      this.inFlight.splice(this.inFlight.indexOf(task), 1);
    }
  }

  /** The engine gave up on a task (its TimeoutSeconds): the oldest in-flight one of that state. */
  private recordTaskTimeout(stateName: string, cause: string): void {
    const task = this.inFlight.find((t) => t.binding.stateName === stateName && !t.abandoned);
    if (!task) return;
    const details = { error: 'States.Timeout', cause };
    if (task.binding.integration === 'lambda:invoke') {
      this.addEvent('TaskTimedOut', {
        taskTimedOutEventDetails: { resourceType: 'lambda', resource: 'invoke', ...details },
      });
    } else {
      this.addEvent('LambdaFunctionTimedOut', { lambdaFunctionTimedOutEventDetails: details });
    }
    task.abandoned = true;
  }

  /** Task events count only while the execution runs and the engine still waits for them. */
  private addTaskEvent(
    task: InFlightTask,
    type: HistoryEventType,
    details: HistoryEventDetails,
  ): void {
    if (!task.abandoned) this.addEvent(type, details);
  }

  private addEvent(
    type: HistoryEventType,
    details: HistoryEventDetails,
    timestamp = Date.now(),
  ): void {
    if (this.finished) return;
    const events = this.record.events;
    events.push({
      ...details,
      id: events.length + 1,
      previousEventId: events.length,
      timestamp,
      type,
    });
    this.env.onChange(this.record);
  }

  private recordEnd(outcome: { output: JsonValue } | { error: unknown }): void {
    const terminal = this.terminal;
    if (terminal?.type === 'ExecutionSucceeded' || (!terminal && 'output' in outcome)) {
      const output = JSON.stringify(
        terminal?.type === 'ExecutionSucceeded'
          ? terminal.output
          : 'output' in outcome
            ? outcome.output
            : null,
      );
      this.addEvent(
        'ExecutionSucceeded',
        { executionSucceededEventDetails: { output, outputDetails: NOT_TRUNCATED } },
        terminal?.timestamp,
      );
      this.end('SUCCEEDED', { output });
    } else if (terminal?.type === 'ExecutionTimeout') {
      const details = {
        error: 'States.Timeout',
        cause: 'The execution exceeded its TimeoutSeconds',
      };
      this.addEvent(
        'ExecutionTimedOut',
        { executionTimedOutEventDetails: details },
        terminal.timestamp,
      );
      this.end('TIMED_OUT', details);
    } else {
      const details =
        terminal?.type === 'ExecutionFailed'
          ? { error: terminal.Error, cause: causeText(terminal.Cause) }
          : {
              error: 'States.Runtime',
              cause: causeText(
                'error' in outcome ? outcome.error : 'The execution ended unexpectedly',
              ),
            };
      this.addEvent(
        'ExecutionFailed',
        { executionFailedEventDetails: details },
        terminal?.timestamp,
      );
      this.end('FAILED', details);
    }
  }

  /** The engine refused to start (e.g. the input does not fit the definition). */
  private failWithoutEngine(error: unknown): void {
    const details = { error: 'States.Runtime', cause: causeText(error) };
    this.addEvent('ExecutionStarted', {
      executionStartedEventDetails: {
        input: this.record.input,
        inputDetails: NOT_TRUNCATED,
        roleArn: this.env.roleArn,
      },
    });
    this.addEvent('ExecutionFailed', { executionFailedEventDetails: details });
    this.end('FAILED', details);
  }

  private end(
    status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED',
    result: { output?: string; error?: string; cause?: string },
  ): void {
    Object.assign(this.record, { status, stopDate: Date.now(), ...result });
    this.finished = true;
    this.env.onChange(this.record);
    this.env.onEnd(this.record);
  }
}
