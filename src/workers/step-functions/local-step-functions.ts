/**
 * A local Step Functions endpoint: the stand-in for AWS Step Functions (Standard) in local
 * mode and in tests. It speaks the service's own wire protocol, so `@aws-sdk/client-sfn`
 * and `aws stepfunctions --endpoint-url` work against it unchanged, errors included.
 * Executions run in-process on aws-local-stepfunctions; each Task state calls a local
 * handler function, the same one Lambda runs on AWS.
 *
 * Listens on loopback only: it runs whatever the definitions say, with no authentication.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  DescribeExecutionOutput,
  DescribeStateMachineForExecutionOutput,
  DescribeStateMachineOutput,
  ExecutionListItem,
  ExecutionStatus,
  GetExecutionHistoryOutput,
  HistoryEvent,
  ListExecutionsOutput,
  ListStateMachinesOutput,
  StartExecutionOutput,
  StopExecutionOutput,
} from '@aws-sdk/client-sfn';
import { LOCAL_ACCOUNT_ID } from '../lambda-context';
import {
  awsJsonRequestListener,
  type ActionHandler,
  type RequestParams,
  SfnApiError,
} from './aws-json-protocol';
import {
  CompiledStateMachine,
  type LocalStateMachine,
  type RetryIntervalOverrides,
  SAFE_NAME,
} from './compiled-state-machine';
import { type ExecutionRecord, isRunning } from './execution-record';
import { ExecutionRun } from './execution-run';
import { ExecutionStore } from './execution-store';

export interface LocalStepFunctionsLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface LocalStepFunctionsOptions {
  /** Loopback only: '127.0.0.1' (default), '::1' or 'localhost'. */
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly region: string;
  /** Default '000000000000'. */
  readonly accountId?: string;
  readonly stateMachines: readonly LocalStateMachine[];
  /**
   * Persist executions as JSON under this folder: a restart shows their history and runs
   * the ones that were RUNNING when the process died again, from the start (the engine
   * cannot resume mid-state; the state machine must be idempotent). Absent: memory only.
   */
  readonly dataDir?: string;
  /**
   * Replaces the waits of `Retry` (ms): one number for every state, or per state name as
   * aws-local-stepfunctions' retryIntervalOverrides. Tests use 0.
   */
  readonly retryIntervalOverrides?: number | RetryIntervalOverrides;
  /** Executions kept (oldest finished ones are dropped first). Default 10,000. */
  readonly maxExecutions?: number;
  /** How long stop() lets running executions finish before leaving them RUNNING. Default 2 s. */
  readonly stopGraceMs?: number;
  readonly logger?: LocalStepFunctionsLogger;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);
const DEFAULT_MAX_EXECUTIONS = 10_000;
const DEFAULT_STOP_GRACE_MS = 2_000;
/** Step Functions' limit for execution input. */
const MAX_INPUT_BYTES = 256 * 1024;
const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;
const EXECUTION_STATUSES = [
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
  'PENDING_REDRIVE',
] as const satisfies readonly ExecutionStatus[];

const SILENT: LocalStepFunctionsLogger = { info: () => {}, warn: () => {}, error: () => {} };

const ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:(stateMachine|execution):(.+)$/;

function invalidArn(arn: string): SfnApiError {
  return new SfnApiError('InvalidArn', `Invalid Arn: '${arn}'`);
}

/** Opaque pagination tokens: base64url JSON that only this service reads back. */
function encodeToken(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeToken<T extends object>(token: string, isValid: (value: Partial<T>) => boolean): T {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<T>;
    if (typeof value === 'object' && value !== null && isValid(value)) return value as T;
  } catch {
    // falls through to the service's answer for a token it did not issue
  }
  throw new SfnApiError('InvalidToken', `Invalid Token: '${token}'`);
}

function pageSize(params: RequestParams): number {
  return params.optionalInteger('maxResults', 0, MAX_PAGE_SIZE) || DEFAULT_PAGE_SIZE;
}

function asDate(epochMs: number | undefined): Date | undefined {
  return epochMs === undefined ? undefined : new Date(epochMs);
}

interface ExecutionsToken {
  readonly m: string;
  readonly f: string;
  readonly s: number;
  readonly a: string;
}

interface HistoryToken {
  readonly a: string;
  readonly r: boolean;
  readonly n: number;
}

export class LocalStepFunctions {
  private readonly server: Server;
  private readonly machines = new Map<string, CompiledStateMachine>();
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly runs = new Map<string, ExecutionRun>();
  private idleWaiters: (() => void)[] = [];
  private stopping?: Promise<void>;
  private address?: AddressInfo;

  private constructor(
    private readonly settings: {
      readonly region: string;
      readonly accountId: string;
      readonly maxExecutions: number;
      readonly stopGraceMs: number;
      readonly logger: LocalStepFunctionsLogger;
      readonly store?: ExecutionStore;
    },
    machines: readonly CompiledStateMachine[],
  ) {
    for (const machine of machines) this.machines.set(machine.arn, machine);
    this.server = createServer(awsJsonRequestListener(actionsOf(this), settings.logger));
    this.server.on('clientError', (_error, socket) => socket.destroy());
  }

  /** http://127.0.0.1:PORT */
  get endpoint(): string {
    const address = this.address;
    if (!address) throw new Error('The local Step Functions endpoint is not listening');
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  static async start(options: LocalStepFunctionsOptions): Promise<LocalStepFunctions> {
    const host = options.host ?? '127.0.0.1';
    if (!LOOPBACK_HOSTS.has(host)) {
      throw new Error(`The local Step Functions endpoint listens on loopback only, not on ${host}`);
    }
    const accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
    const arnOf = (name: string) => stateMachineArn(options.region, accountId, name);
    const names = new Set<string>();
    const machines = options.stateMachines.map((machine) => {
      if (names.has(machine.name)) throw new Error(`Two state machines are named ${machine.name}`);
      names.add(machine.name);
      return new CompiledStateMachine(machine, arnOf(machine.name), options.retryIntervalOverrides);
    });
    const logger = options.logger ?? SILENT;
    const store = options.dataDir ? new ExecutionStore(options.dataDir, logger) : undefined;
    const saved = (await store?.load()) ?? [];

    const service = new LocalStepFunctions(
      {
        region: options.region,
        accountId,
        maxExecutions: options.maxExecutions ?? DEFAULT_MAX_EXECUTIONS,
        stopGraceMs: options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS,
        logger,
        store,
      },
      machines,
    );
    await service.listen(options.port, host);
    service.restore(saved);
    return service;
  }

  private async listen(port: number, host: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE'
            ? // Keeps the code, so that callers can tell this case without reading the message.
              Object.assign(
                new Error(
                  `The local Step Functions endpoint cannot use port ${port}: it is already in use`,
                  { cause: error },
                ),
                { code: error.code },
              )
            : error,
        ),
      );
      this.server.listen({ port, host }, () => resolve());
    });
    this.address = this.server.address() as AddressInfo;
  }

  stateMachineArn(name: string): string {
    return stateMachineArn(this.settings.region, this.settings.accountId, name);
  }

  /** Resolves when no execution is running (tests, shutdown). */
  idle(): Promise<void> {
    if (this.runs.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Closes the server, gives running executions a moment to finish, and leaves the others
   * RUNNING on disk, to be run again by the next start with the same data folder.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  private async shutDown(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
    if (this.runs.size > 0) {
      // A timer we clear ourselves: a pending one would keep the process (or a jest worker) alive.
      let graceTimer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<void>((resolve) => {
        graceTimer = setTimeout(resolve, this.settings.stopGraceMs);
      });
      await Promise.race([this.idle(), graceOver]);
      clearTimeout(graceTimer);
    }
    for (const run of this.runs.values()) {
      this.settings.logger.warn(
        { execution: run.record.name, stateMachine: run.record.stateMachineName },
        'local Step Functions: execution still running at shutdown; left RUNNING',
      );
      run.detach();
    }
    await this.settings.store?.flush();
  }

  // ---- executions -------------------------------------------------------------------

  /** Loads saved executions; those that were RUNNING start again from the beginning. */
  private restore(saved: readonly ExecutionRecord[]): void {
    for (const record of saved) this.executions.set(record.executionArn, record);
    for (const record of saved) {
      if (!isRunning(record)) continue;
      const machine = this.machines.get(record.stateMachineArn);
      Object.assign(record, {
        events: [],
        stopDate: undefined,
        output: undefined,
        error: undefined,
        cause: undefined,
      });
      if (!machine) {
        Object.assign(record, {
          status: 'ABORTED',
          stopDate: Date.now(),
          error: 'States.Runtime',
          cause: 'The state machine is no longer defined locally',
        });
        this.settings.store?.changed(record);
        continue;
      }
      this.settings.logger.info(
        { execution: record.name, stateMachine: record.stateMachineName },
        'local Step Functions: running an interrupted execution again',
      );
      this.launch(machine, record);
    }
    this.pruneOldExecutions();
  }

  private launch(machine: CompiledStateMachine, record: ExecutionRecord): void {
    const { logger, store } = this.settings;
    const run = new ExecutionRun(machine, record, {
      region: this.settings.region,
      accountId: this.settings.accountId,
      roleArn: this.roleArn(machine.name),
      onChange: (changed) => store?.changed(changed),
      onEnd: (ended) =>
        logger.info(
          {
            stateMachine: ended.stateMachineName,
            execution: ended.name,
            status: ended.status,
            durationMs: (ended.stopDate ?? Date.now()) - ended.startDate,
            ...(ended.error ? { error: ended.error } : {}),
          },
          'local Step Functions: execution ended',
        ),
    });
    this.runs.set(record.executionArn, run);
    // `done` never rejects; the catch is for our own bookkeeping, should it ever throw.
    run.done
      .catch((error: unknown) =>
        logger.error({ err: error }, 'local Step Functions: execution crashed'),
      )
      .finally(() => {
        this.runs.delete(record.executionArn);
        if (this.runs.size === 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          for (const resolve of waiters) resolve();
        }
      });
  }

  private pruneOldExecutions(): void {
    let excess = this.executions.size - this.settings.maxExecutions;
    if (excess <= 0) return;
    for (const record of this.executions.values()) {
      if (excess <= 0) break;
      if (isRunning(record)) continue;
      this.executions.delete(record.executionArn);
      this.settings.store?.forget(record);
      excess--;
    }
  }

  private roleArn(machineName: string): string {
    return `arn:aws:iam::${this.settings.accountId}:role/local/StepFunctions-${machineName}`;
  }

  private machineFor(arn: string): CompiledStateMachine {
    const match = ARN.exec(arn);
    if (!match || match[1] !== 'stateMachine') throw invalidArn(arn);
    const machine = this.machines.get(arn);
    if (!machine) {
      throw new SfnApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    }
    return machine;
  }

  private executionFor(arn: string): ExecutionRecord {
    const match = ARN.exec(arn);
    if (!match || match[1] !== 'execution' || !match[2].includes(':')) throw invalidArn(arn);
    const record = this.executions.get(arn);
    if (!record) {
      throw new SfnApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    }
    return record;
  }

  // ---- actions (one per API operation) -------------------------------------------------

  async startExecution(params: RequestParams): Promise<StartExecutionOutput> {
    const machine = this.machineFor(params.requiredString('stateMachineArn'));
    const name = params.optionalString('name', Number.MAX_SAFE_INTEGER) ?? randomUUID();
    if (!SAFE_NAME.test(name)) throw new SfnApiError('InvalidName', `Invalid Name: '${name}'`);
    const input = params.optionalString('input', Number.MAX_SAFE_INTEGER) ?? '{}';
    assertExecutionInput(input);
    params.optionalString('traceHeader', 256); // accepted; there is no X-Ray locally

    const executionArn = `arn:aws:states:${this.settings.region}:${this.settings.accountId}:execution:${machine.name}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      // Standard workflows: idempotent by name only while running, and for the same input.
      if (isRunning(existing) && existing.input === input) {
        return { executionArn, startDate: new Date(existing.startDate) };
      }
      throw new SfnApiError(
        'ExecutionAlreadyExists',
        `Execution Already Exists: '${executionArn}'`,
      );
    }
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn: machine.arn,
      stateMachineName: machine.name,
      name,
      input,
      status: 'RUNNING',
      startDate: Date.now(),
      events: [],
    };
    this.executions.set(executionArn, record);
    this.settings.store?.changed(record);
    this.launch(machine, record);
    this.pruneOldExecutions();
    // Answer only once the execution is on disk, as AWS answers only once it is durable:
    // the stream poller checkpoints a record as soon as its execution has started, so an
    // execution lost to a crash right after this answer would never run at all.
    await this.settings.store?.flush();
    return { executionArn, startDate: new Date(record.startDate) };
  }

  describeExecution(params: RequestParams): DescribeExecutionOutput {
    const record = this.executionFor(params.requiredString('executionArn'));
    return {
      executionArn: record.executionArn,
      stateMachineArn: record.stateMachineArn,
      name: record.name,
      status: record.status,
      startDate: new Date(record.startDate),
      stopDate: asDate(record.stopDate),
      input: record.input,
      inputDetails: { included: true },
      output: record.output,
      outputDetails: record.output === undefined ? undefined : { included: true },
      error: record.error,
      cause: record.cause,
    };
  }

  listExecutions(params: RequestParams): ListExecutionsOutput {
    if (params.optionalString('mapRunArn', 2000) !== undefined) {
      throw new SfnApiError('ValidationException', 'Map Runs are not supported locally');
    }
    const machine = this.machineFor(params.requiredString('stateMachineArn'));
    const statusFilter = params.optionalEnum('statusFilter', EXECUTION_STATUSES) ?? '';
    const limit = pageSize(params);
    const token = params.optionalString('nextToken', 3096);
    params.optionalString('redriveFilter', 256);
    const after =
      token === undefined
        ? undefined
        : decodeToken<ExecutionsToken>(
            token,
            (t) =>
              t.m === machine.arn &&
              t.f === statusFilter &&
              typeof t.s === 'number' &&
              typeof t.a === 'string',
          );
    // Newest first, as Step Functions lists them; ties broken by ARN for stable pages.
    const newestFirst = (a: ExecutionRecord, b: ExecutionRecord) =>
      b.startDate - a.startDate || (a.executionArn < b.executionArn ? 1 : -1);
    const matching = [...this.executions.values()]
      .filter(
        (r) => r.stateMachineArn === machine.arn && (!statusFilter || r.status === statusFilter),
      )
      .filter(
        (r) =>
          !after || r.startDate < after.s || (r.startDate === after.s && r.executionArn < after.a),
      )
      .sort(newestFirst);
    const page = matching.slice(0, limit);
    const last = page.at(-1);
    return {
      executions: page.map((r): ExecutionListItem => ({
        executionArn: r.executionArn,
        stateMachineArn: r.stateMachineArn,
        name: r.name,
        status: r.status,
        startDate: new Date(r.startDate),
        stopDate: asDate(r.stopDate),
      })),
      nextToken:
        matching.length > limit && last
          ? encodeToken({
              m: machine.arn,
              f: statusFilter,
              s: last.startDate,
              a: last.executionArn,
            })
          : undefined,
    };
  }

  getExecutionHistory(params: RequestParams): GetExecutionHistoryOutput {
    const record = this.executionFor(params.requiredString('executionArn'));
    const reverse = params.optionalBoolean('reverseOrder') ?? false;
    const includeData = params.optionalBoolean('includeExecutionData') ?? true;
    const limit = pageSize(params);
    const token = params.optionalString('nextToken', 3096);
    const from =
      token === undefined
        ? undefined
        : decodeToken<HistoryToken>(
            token,
            (t) => t.a === record.executionArn && t.r === reverse && typeof t.n === 'number',
          ).n;
    const ordered = reverse ? [...record.events].reverse() : record.events;
    const remaining =
      from === undefined ? ordered : ordered.filter((e) => (reverse ? e.id <= from : e.id >= from));
    const page = remaining.slice(0, limit);
    const next = remaining[limit];
    return {
      events: page.map((event) => historyEvent(event, includeData)),
      nextToken: next ? encodeToken({ a: record.executionArn, r: reverse, n: next.id }) : undefined,
    };
  }

  stopExecution(params: RequestParams): StopExecutionOutput {
    const record = this.executionFor(params.requiredString('executionArn'));
    const error = params.optionalString('error', 256);
    const cause = params.optionalString('cause', 32768);
    this.runs.get(record.executionArn)?.stop(error, cause);
    // Stopping an execution that has already ended changes nothing and reports when it ended.
    return { stopDate: new Date(record.stopDate ?? Date.now()) };
  }

  listStateMachines(params: RequestParams): ListStateMachinesOutput {
    const limit = pageSize(params);
    const token = params.optionalString('nextToken', 3096);
    const offset =
      token === undefined ? 0 : decodeToken<{ o: number }>(token, (t) => typeof t.o === 'number').o;
    const all = [...this.machines.values()];
    return {
      stateMachines: all.slice(offset, offset + limit).map((machine) => ({
        stateMachineArn: machine.arn,
        name: machine.name,
        type: 'STANDARD',
        creationDate: machine.creationDate,
      })),
      nextToken: offset + limit < all.length ? encodeToken({ o: offset + limit }) : undefined,
    };
  }

  describeStateMachine(params: RequestParams): DescribeStateMachineOutput {
    const machine = this.machineFor(params.requiredString('stateMachineArn'));
    return {
      stateMachineArn: machine.arn,
      name: machine.name,
      status: 'ACTIVE',
      definition: machine.definitionJson,
      roleArn: this.roleArn(machine.name),
      type: 'STANDARD',
      creationDate: machine.creationDate,
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
    };
  }

  describeStateMachineForExecution(params: RequestParams): DescribeStateMachineForExecutionOutput {
    const record = this.executionFor(params.requiredString('executionArn'));
    const machine = this.machines.get(record.stateMachineArn);
    if (!machine) {
      throw new SfnApiError(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${record.stateMachineArn}'`,
      );
    }
    return {
      stateMachineArn: machine.arn,
      name: machine.name,
      definition: machine.definitionJson,
      roleArn: this.roleArn(machine.name),
      updateDate: machine.creationDate,
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
    };
  }
}

export function stateMachineArn(region: string, accountId: string, name: string): string {
  return `arn:aws:states:${region}:${accountId}:stateMachine:${name}`;
}

function assertExecutionInput(input: string): void {
  if (Buffer.byteLength(input) > MAX_INPUT_BYTES) {
    throw new SfnApiError(
      'InvalidExecutionInput',
      `Invalid State Machine Execution Input: 'the input exceeds ${MAX_INPUT_BYTES} bytes'`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(input);
  } catch (error) {
    const reason = error instanceof Error ? error.message : 'not JSON';
    throw new SfnApiError(
      'InvalidExecutionInput',
      `Invalid State Machine Execution Input: '${reason}'`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SfnApiError(
      'InvalidExecutionInput',
      `Invalid State Machine Execution Input: 'the input must be a JSON object'`,
    );
  }
}

/** A stored event as the API returns it; without execution data when the caller asks so. */
function historyEvent(
  event: ExecutionRecord['events'][number],
  includeData: boolean,
): HistoryEvent {
  const wire: HistoryEvent = { ...event, timestamp: new Date(event.timestamp) };
  if (includeData) return wire;
  // Only the *EventDetails members carry execution data.
  const lean: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(wire)) {
    if (key.endsWith('EventDetails') && typeof value === 'object' && value !== null) {
      const {
        input: _input,
        output: _output,
        parameters: _parameters,
        ...rest
      } = value as Record<string, unknown>;
      lean[key] = rest;
    }
  }
  return { ...wire, ...(lean as Partial<HistoryEvent>) };
}

function actionsOf(service: LocalStepFunctions): Record<string, ActionHandler> {
  return {
    StartExecution: (p) => service.startExecution(p),
    DescribeExecution: (p) => service.describeExecution(p),
    ListExecutions: (p) => service.listExecutions(p),
    GetExecutionHistory: (p) => service.getExecutionHistory(p),
    StopExecution: (p) => service.stopExecution(p),
    ListStateMachines: (p) => service.listStateMachines(p),
    DescribeStateMachine: (p) => service.describeStateMachine(p),
    DescribeStateMachineForExecution: (p) => service.describeStateMachineForExecution(p),
  };
}
