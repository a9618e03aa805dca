/**
 * A state machine definition bound to local functions, checked once at start-up so that a
 * Task without a handler or a broken definition stops the process with a clear message
 * instead of failing executions later.
 *
 * aws-local-stepfunctions looks Task overrides up by *state name*; we bind each Task state
 * (also inside Map and Parallel) to the function its `Resource` names, either a Lambda ARN
 * or `arn:aws:states:::lambda:invoke` with `Parameters.FunctionName`.
 */
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { AwsPrincipal } from '../../platform/aws/principals';
import { LAMBDA_DEFAULT_TIMEOUT_SECONDS, type LocalFunction } from './lambda-invocation';

export interface LocalStateMachine {
  /** e.g. 'SF_CardStore_SendUserActivationMail' */
  readonly name: string;
  /** The parsed ASL (placeholders already substituted), JSONPath only. */
  readonly definition: object;
  /**
   * Task `Resource` ARN → the function Lambda would run there. For the optimised
   * integration (`arn:aws:states:::lambda:invoke`) the key is the `FunctionName` parameter
   * (an ARN or a plain name; a function is also found by its `functionName`).
   */
  readonly taskHandlers: Readonly<Record<string, LocalFunction>>;
  /**
   * The component whose role the state machine runs as on AWS: each task's invocation is
   * reported as that role's `lambda:InvokeFunction` (aws/call-observers.ts). Unset: none.
   */
  readonly principal?: AwsPrincipal;
}

/** Per-state waits before a retry, in ms (aws-local-stepfunctions' retryIntervalOverrides). */
export type RetryIntervalOverrides = Readonly<Record<string, number | number[]>>;

export const LAMBDA_INVOKE_RESOURCE = 'arn:aws:states:::lambda:invoke';
/** Names of state machines and executions: the characters every AWS tool accepts. */
export const SAFE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

export interface TaskBinding {
  readonly stateName: string;
  readonly resource: string;
  /** `lambda`: a function ARN as Resource; `lambda:invoke`: the optimised integration. */
  readonly integration: 'lambda' | 'lambda:invoke';
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every state of a definition, also those of Map iterators and Parallel branches. */
function* allStates(definition: unknown): Generator<[string, JsonObject]> {
  if (!isObject(definition) || !isObject(definition.States)) return;
  for (const [name, state] of Object.entries(definition.States)) {
    if (!isObject(state)) continue;
    yield [name, state];
    if (state.Type === 'Map') yield* allStates(state.ItemProcessor ?? state.Iterator);
    if (state.Type === 'Parallel' && Array.isArray(state.Branches)) {
      for (const branch of state.Branches) yield* allStates(branch);
    }
  }
}

/** `fn`, `arn:aws:lambda:r:a:function:fn` or `...:function:fn:qualifier` → `fn`. */
function functionNameOf(nameOrArn: string): string {
  const match = /(?:^|:function:)([A-Za-z0-9_-]+)(?::[^:]+)?$/.exec(nameOrArn);
  return match ? match[1] : nameOrArn;
}

/**
 * Definitions this process has already validated. The engine's validator (asl-validator
 * 3.x, bundled with aws-local-stepfunctions) builds a new Ajv on every call, about a second
 * of CPU; validating each definition once keeps test start-ups and restarts fast.
 */
const validatedDefinitions = new Set<string>();

function createEngine(definition: JsonObject): StateMachine {
  const key = JSON.stringify(definition);
  const engine = new StateMachine(definition as unknown as StateMachineDefinition, {
    validationOptions: { noValidate: validatedDefinitions.has(key) },
  });
  validatedDefinitions.add(key);
  return engine;
}

/**
 * The engine waits with one setTimeout; Node fires a longer one after 1 ms instead. AWS
 * allows TimeoutSeconds up to 99999999, so longer ones are cut to what a timer can wait.
 */
const MAX_TIMER_SECONDS = Math.floor(2 ** 31 / 1000) - 1;

export class CompiledStateMachine {
  readonly arn: string;
  /** As DescribeStateMachine returns it: the definition we were given, not our tuned copy. */
  readonly definitionJson: string;
  readonly creationDate = new Date();
  readonly engine: StateMachine;
  readonly tasks: readonly TaskBinding[];
  readonly retryIntervalOverrides?: RetryIntervalOverrides;

  constructor(
    private readonly source: LocalStateMachine,
    arn: string,
    retryIntervals?: number | RetryIntervalOverrides,
  ) {
    if (!SAFE_NAME.test(source.name)) {
      throw new Error(
        `State machine name "${source.name}" must be 1-80 characters of A-Z a-z 0-9 - _`,
      );
    }
    this.arn = arn;
    this.definitionJson = JSON.stringify(source.definition);
    const tuned = structuredClone(source.definition) as JsonObject;
    this.tasks = this.bindTasks(tuned);
    if (typeof tuned.TimeoutSeconds === 'number') {
      tuned.TimeoutSeconds = Math.min(tuned.TimeoutSeconds, MAX_TIMER_SECONDS);
    }
    this.retryIntervalOverrides =
      typeof retryIntervals === 'number'
        ? Object.fromEntries(
            [...allStates(tuned)]
              .filter(([, state]) => Array.isArray(state.Retry))
              .map(([name]) => [name, retryIntervals]),
          )
        : retryIntervals;
    try {
      this.engine = createEngine(tuned);
    } catch (error) {
      throw new Error(
        `State machine ${source.name}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }

  get name(): string {
    return this.source.name;
  }

  get principal(): AwsPrincipal | undefined {
    return this.source.principal;
  }

  /** The function a Task state runs for this input, or undefined when none is mapped. */
  functionFor(binding: TaskBinding, input: unknown): LocalFunction | undefined {
    if (binding.integration === 'lambda') return this.source.taskHandlers[binding.resource];
    const nameOrArn = isObject(input) ? input.FunctionName : undefined;
    return typeof nameOrArn === 'string' ? this.lookUpFunction(nameOrArn) : undefined;
  }

  private lookUpFunction(nameOrArn: string): LocalFunction | undefined {
    const handlers = this.source.taskHandlers;
    if (Object.hasOwn(handlers, nameOrArn)) return handlers[nameOrArn];
    const name = functionNameOf(nameOrArn);
    return Object.values(handlers).find(
      (fn) => fn.functionName === name || functionNameOf(fn.functionName) === name,
    );
  }

  /**
   * Binds every Task state and caps its TimeoutSeconds at the function's timeout, so that a
   * handler that overruns fails with the engine's own `States.Timeout` (which, as on AWS,
   * `States.TaskFailed` does not match). Mutates `tuned`, our private copy.
   */
  private bindTasks(tuned: JsonObject): TaskBinding[] {
    const bindings: TaskBinding[] = [];
    const seen = new Set<string>();
    for (const [stateName, state] of allStates(tuned)) {
      if (state.Type !== 'Task') continue;
      const where = `State machine ${this.source.name}, Task state "${stateName}"`;
      if (seen.has(stateName)) {
        throw new Error(`${where}: Task state names must be unique across the whole definition`);
      }
      seen.add(stateName);
      const resource = typeof state.Resource === 'string' ? state.Resource : '';
      let fn: LocalFunction | undefined;
      if (resource === LAMBDA_INVOKE_RESOURCE) {
        const parameters = isObject(state.Parameters) ? state.Parameters : {};
        if (typeof parameters.FunctionName === 'string') {
          fn = this.lookUpFunction(parameters.FunctionName);
          if (!fn) {
            throw new Error(
              `${where}: no local handler for FunctionName "${parameters.FunctionName}"`,
            );
          }
        } else if (typeof parameters['FunctionName.$'] !== 'string') {
          throw new Error(`${where}: lambda:invoke needs Parameters.FunctionName`);
        }
        bindings.push({ stateName, resource, integration: 'lambda:invoke' });
      } else if (Object.hasOwn(this.source.taskHandlers, resource)) {
        fn = this.source.taskHandlers[resource];
        bindings.push({ stateName, resource, integration: 'lambda' });
      } else {
        throw new Error(
          `${where}: no local handler for Resource "${resource}" (only Lambda functions run locally)`,
        );
      }
      if (typeof state.TimeoutSeconds === 'number') {
        state.TimeoutSeconds = Math.min(state.TimeoutSeconds, MAX_TIMER_SECONDS);
      }
      if (fn && state.TimeoutSecondsPath === undefined) {
        // ASL wants whole seconds, at least 1.
        const functionTimeout = Math.max(
          1,
          Math.ceil(fn.timeoutSeconds ?? LAMBDA_DEFAULT_TIMEOUT_SECONDS),
        );
        const stateTimeout =
          typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : Infinity;
        state.TimeoutSeconds = Math.min(stateTimeout, functionTimeout);
      }
    }
    return bindings;
  }
}
