/**
 * Plays Lambda's DynamoDB event source mapping in local mode: reads a table's stream through
 * the DynamoDB Streams API of DynamoDB Local and hands a handler real `DynamoDBStreamEvent`
 * batches, with the mapping's settings (lambdas/stream-settings.ts) and AWS's semantics:
 * filtering, batch size, partial batch responses, bisection, retries, an on-failure file, a
 * checkpoint that survives restarts.
 *
 * What DynamoDB Local does that shapes this loop:
 * - a record is readable as soon as the write returns, so polling every 100 ms is all the
 *   latency there is;
 * - shards close after 4 hours and a child shard takes over (ParentShardId); a closed shard's
 *   last GetRecords has no NextShardIterator. The stream is described again every second,
 *   and a child is read only once its parent is done;
 * - iterators expire 15 minutes after they were issued (every GetRecords issues a new one,
 *   so only a poller that stalls sees it): a fresh one is taken from the checkpoint;
 * - records live 24 hours; reading behind that gives TrimmedDataAccessException: the shard
 *   is read again from its oldest record, records at or before the checkpoint skipped.
 *
 * One shard is read at a time and one batch is in flight at a time (parallelizationFactor 1,
 * which is all this poller accepts). Errors of the poll itself are logged once per kind and
 * retried with backoff; they never end the loop.
 */
import {
  DescribeTableCommand,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import type {
  Context,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
} from 'aws-lambda';
import type { StreamEventSourceSettings } from '../../../lambdas/stream-settings';
import {
  type Discarded,
  type InvokeOutcome,
  interpretResponse,
  type SettlementPorts,
  sequenceNumberOf,
  settleBatch,
} from './batch-settlement';
import { type Checkpoint, CheckpointFile, type ShardCheckpoint } from './checkpoint-file';
import { compileRecordFilter, type RecordFilter } from './event-filter';
import { FailureFile, onFailureMessage } from './failure-file';
import {
  functionArn,
  LOCAL_ACCOUNT_ID,
  lambdaContext,
  type LambdaFunctionIdentity,
} from '../lambda-context';
import { toLambdaRecord } from './lambda-event';

export type StreamHandler = (
  event: DynamoDBStreamEvent,
  context: Context,
) => Promise<DynamoDBBatchResponse | void>;

/** The part of pino the poller uses. */
export interface StreamPollerLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface StreamPollerOptions {
  /** Finds the table's current stream (DescribeTable → LatestStreamArn). */
  readonly dynamodb: DynamoDBClient;
  readonly streams: DynamoDBStreamsClient;
  readonly tableName: string;
  /** The region put in the records' `awsRegion` and in the function's ARN. */
  readonly region: string;
  readonly settings: StreamEventSourceSettings;
  readonly handler: StreamHandler;
  /** For the Lambda context and the on-failure messages; default `<tableName>-stream-handler`. */
  readonly functionName?: string;
  /** The function's timeout: a handler still running after it has failed. Default 60 s. */
  readonly functionTimeoutMs?: number;
  /** JSON file with the checkpoint; without it every start begins at startingPosition. */
  readonly checkpointFile?: string;
  /** JSON-lines file, the on-failure destination; without it discarded batches are only logged. */
  readonly failureFile?: string;
  /** How often an idle shard is asked for new records; default 100 ms (Lambda: 250 ms). */
  readonly pollIntervalMs?: number;
  readonly logger?: StreamPollerLogger;
  /** The clock that ages records against maximumRecordAgeSeconds (tests move it); only that. */
  readonly now?: () => number;
}

const DEFAULT_POLL_INTERVAL_MS = 100;
const DEFAULT_FUNCTION_TIMEOUT_MS = 60_000;
const DESCRIBE_EVERY_MS = 1_000;
const MAX_ERROR_BACKOFF_MS = 2_000;
/** GetRecords' own maximum. */
const RECORDS_PER_READ = 1_000;

/** Warnings and errors as JSON lines on stderr, when the caller brings no logger. */
const STDERR_LOGGER: StreamPollerLogger = {
  info: () => undefined,
  warn: (details, message) =>
    process.stderr.write(`${JSON.stringify({ level: 'warn', ...details, message })}\n`),
  error: (details, message) =>
    process.stderr.write(`${JSON.stringify({ level: 'error', ...details, message })}\n`),
};

interface PendingRecord {
  readonly record: DynamoDBRecord;
  /** Passes the filter: delivered; otherwise only checkpointed. */
  readonly wanted: boolean;
  readonly readAt: number;
}

interface ShardState {
  readonly shardId: string;
  readonly parentShardId?: string;
  /** Checkpoint: the last record that is done. */
  after?: string;
  done: boolean;
  /** Where to start when there is no checkpoint. */
  readonly startAt: 'TRIM_HORIZON' | 'LATEST';
  /** The checkpoint fell behind the stream's retention: read from the oldest record left. */
  trimmed: boolean;
  iterator?: string;
  /** Closed and read to its end: done once `pending` is empty. */
  exhausted: boolean;
  pending: PendingRecord[];
}

type ShardPoll = 'idle' | 'busy' | 'waiting' | 'stopped';

interface DrainWaiter {
  /** Resolved by the first idle cycle that started after this one. */
  readonly afterCycle: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

function errorName(error: unknown): string {
  // Duck-typed: errors can come from another realm (jest) and fail `instanceof`.
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : 'Error';
}

function errorMessage(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

function isAtOrBefore(sequenceNumber: string, checkpoint: string | undefined): boolean {
  return checkpoint !== undefined && BigInt(sequenceNumber) <= BigInt(checkpoint);
}

/** A state of the stream that is expected while things start up: logged, then waited out. */
class StreamUnavailable extends Error {
  override readonly name = 'StreamUnavailable';
}

export class StreamPoller {
  private readonly logger: StreamPollerLogger;
  private readonly pollIntervalMs: number;
  private readonly now: () => number;
  private readonly identity: LambdaFunctionIdentity;
  private readonly filter: RecordFilter;
  private readonly checkpointFile?: CheckpointFile;
  private readonly failureFile?: FailureFile;

  private loaded?: Checkpoint;
  private streamArn?: string;
  /** In the order DescribeStream lists them: parents before their children. */
  private shards = new Map<string, ShardState>();
  private lastDescribedAt = 0;
  private describeSoon = true;
  private checkpointDirty = false;

  private cycle = 0;
  private drainWaiters: DrainWaiter[] = [];
  private stopping = false;
  private loop: Promise<void> = Promise.resolve();
  private lastProblem?: string;

  private endSleep?: () => void;
  private sleepEndsOnDrain = false;

  private constructor(private readonly options: StreamPollerOptions) {
    const { settings } = options;
    if (settings.parallelizationFactor !== 1) {
      throw new Error('The local stream poller supports parallelizationFactor 1 only.');
    }
    if (!Number.isInteger(settings.batchSize) || settings.batchSize < 1) {
      throw new Error(`batchSize must be a positive integer, got ${settings.batchSize}.`);
    }
    this.filter = compileRecordFilter(settings.filterPatterns);
    this.logger = options.logger ?? STDERR_LOGGER;
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.now = options.now ?? Date.now;
    this.identity = {
      functionName: options.functionName ?? `${options.tableName}-stream-handler`,
      region: options.region,
      accountId: LOCAL_ACCOUNT_ID,
      timeoutMs: options.functionTimeoutMs ?? DEFAULT_FUNCTION_TIMEOUT_MS,
    };
    if (options.checkpointFile) this.checkpointFile = new CheckpointFile(options.checkpointFile);
    if (options.failureFile) this.failureFile = new FailureFile(options.failureFile);
  }

  /**
   * Loads the checkpoint and starts polling in the background. Resolves at once: a table
   * or stream that is not there yet is waited for (and logged), not an error.
   * @throws on settings this poller cannot honour (filter syntax, parallelization)
   */
  static async start(options: StreamPollerOptions): Promise<StreamPoller> {
    const poller = new StreamPoller(options);
    await poller.loadCheckpoint();
    poller.loop = poller.run().catch((error: unknown) => {
      poller.logger.error({ err: errorMessage(error) }, 'Stream poller loop ended unexpectedly');
    });
    return poller;
  }

  /**
   * Resolves once every record that was in the stream when it was called has been handled
   * (delivered, skipped by the filter or discarded): the first poll cycle that starts after
   * the call and finds nothing left to do. Rejects if the poller stops first.
   */
  drained(): Promise<void> {
    if (this.stopping) return Promise.reject(new Error('The stream poller is stopped.'));
    return new Promise<void>((resolve, reject) => {
      this.drainWaiters.push({ afterCycle: this.cycle, resolve, reject });
      this.wake(false);
    });
  }

  /** Lets the batch in flight finish (no more retries), saves the checkpoint, ends the loop. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake(true);
    await this.loop;
    for (const waiter of this.drainWaiters.splice(0)) {
      waiter.reject(new Error('The stream poller stopped before the stream was drained.'));
    }
  }

  private async loadCheckpoint(): Promise<void> {
    if (!this.checkpointFile) return;
    const result = await this.checkpointFile.load();
    const file = this.checkpointFile.path;
    if (result.status === 'loaded') {
      this.loaded = result.checkpoint;
      this.logger.info({ file, streamArn: this.loaded.streamArn }, 'Stream checkpoint loaded');
    } else if (result.status === 'missing') {
      this.logger.info({ file }, 'No stream checkpoint yet: starting at the starting position');
    } else {
      this.logger.warn(
        { file, reason: result.reason, movedTo: result.movedTo },
        'Unreadable stream checkpoint set aside: starting at the starting position (records may be delivered again)',
      );
    }
  }

  private async run(): Promise<void> {
    let failuresInRow = 0;
    while (!this.stopping) {
      const cycle = ++this.cycle;
      let result: ShardPoll = 'busy';
      try {
        result = await this.pollOnce();
        failuresInRow = 0;
        if (this.lastProblem) {
          this.logger.info({ tableName: this.options.tableName }, 'Stream polling recovered');
          this.lastProblem = undefined;
        }
      } catch (error) {
        failuresInRow += 1;
        this.reportProblem(error);
      }
      if (result === 'idle') this.resolveDrainWaiters(cycle);
      if (this.stopping) break;
      if (failuresInRow > 0) {
        await this.sleep(
          Math.min(MAX_ERROR_BACKOFF_MS, this.pollIntervalMs * 2 ** failuresInRow),
          false,
        );
      } else if (result !== 'busy') {
        await this.sleep(this.pollIntervalMs, true);
      }
    }
    await this.saveCheckpoint();
  }

  private reportProblem(error: unknown): void {
    const problem = `${errorName(error)}: ${errorMessage(error)}`;
    if (problem === this.lastProblem) return;
    this.lastProblem = problem;
    const details = { tableName: this.options.tableName, streamArn: this.streamArn, problem };
    if (error instanceof StreamUnavailable) {
      this.logger.warn(details, 'Stream not available yet; polling on');
    } else {
      this.logger.warn(details, 'Stream poll failed; retrying with backoff');
    }
  }

  private resolveDrainWaiters(idleCycle: number): void {
    this.drainWaiters = this.drainWaiters.filter((waiter) => {
      if (waiter.afterCycle >= idleCycle) return true;
      waiter.resolve();
      return false;
    });
  }

  /** One pass over the readable shards. Idle when nothing was read and nothing is pending. */
  private async pollOnce(): Promise<ShardPoll> {
    const describeDue = Date.now() - this.lastDescribedAt >= DESCRIBE_EVERY_MS;
    if (this.describeSoon || describeDue || this.drainWaiters.length > 0) {
      await this.describeStream();
    }
    let result: ShardPoll = 'idle';
    const polled = new Set<string>();
    // A child becomes readable when its parent finishes in this very pass.
    for (let shard = this.nextReadable(polled); shard; shard = this.nextReadable(polled)) {
      polled.add(shard.shardId);
      const shardResult = await this.pollShard(shard);
      if (shardResult === 'stopped') return 'stopped';
      if (shardResult === 'busy' || (shardResult === 'waiting' && result === 'idle')) {
        result = shardResult;
      }
    }
    if (this.checkpointDirty) await this.saveCheckpoint();
    return result;
  }

  private nextReadable(polled: ReadonlySet<string>): ShardState | undefined {
    for (const shard of this.shards.values()) {
      if (shard.done || polled.has(shard.shardId)) continue;
      const parent = shard.parentShardId ? this.shards.get(shard.parentShardId) : undefined;
      if (!parent || parent.done) return shard;
    }
    return undefined;
  }

  private async describeStream(): Promise<void> {
    const { tableName } = this.options;
    let table: TableDescription | undefined;
    try {
      const described = await this.options.dynamodb.send(
        new DescribeTableCommand({ TableName: tableName }),
      );
      table = described.Table;
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') {
        throw new StreamUnavailable(`Table ${tableName} does not exist.`);
      }
      throw error;
    }
    const streamArn = table?.LatestStreamArn;
    if (!streamArn || table?.StreamSpecification?.StreamEnabled === false) {
      throw new StreamUnavailable(`Table ${tableName} has no stream enabled.`);
    }
    if (streamArn !== this.streamArn) this.followStream(streamArn);

    const shards: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription: description } = await this.options.streams.send(
        new DescribeStreamCommand({
          StreamArn: streamArn,
          ExclusiveStartShardId: exclusiveStartShardId,
        }),
      );
      shards.push(...(description?.Shards ?? []));
      exclusiveStartShardId = description?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);

    const firstLook = this.shards.size === 0;
    const known = this.loaded?.streamArn === streamArn ? this.loaded.shards : undefined;
    for (const shard of shards) {
      if (!shard.ShardId || this.shards.has(shard.ShardId)) continue;
      this.shards.set(shard.ShardId, this.newShardState(shard, known, firstLook));
    }
    // Shards past the stream's retention are no longer listed: forget them.
    const listed = new Set(shards.map((shard) => shard.ShardId));
    for (const shardId of this.shards.keys()) {
      if (!listed.has(shardId)) {
        this.shards.delete(shardId);
        this.checkpointDirty = true;
      }
    }
    this.lastDescribedAt = Date.now();
    this.describeSoon = false;
  }

  /** The table has a (new) stream: a recreated table starts over, as a new mapping would. */
  private followStream(streamArn: string): void {
    if (this.streamArn) {
      this.logger.warn(
        { tableName: this.options.tableName, from: this.streamArn, to: streamArn },
        'The table has a new stream (recreated?): following it from the starting position',
      );
    } else if (this.loaded && this.loaded.streamArn !== streamArn) {
      this.logger.info(
        { streamArn, checkpointFor: this.loaded.streamArn },
        'The checkpoint belongs to an earlier stream of the table: starting at the starting position',
      );
    }
    this.streamArn = streamArn;
    this.shards = new Map();
    this.checkpointDirty = true;
  }

  private newShardState(
    shard: Shard,
    known: Readonly<Record<string, ShardCheckpoint>> | undefined,
    firstLook: boolean,
  ): ShardState {
    const saved = known?.[shard.ShardId!];
    const closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
    // The starting position applies to the shards there when the mapping begins; shards
    // that appear later, or that a checkpoint does not mention, are read from their start.
    const latest = firstLook && !known && this.options.settings.startingPosition === 'LATEST';
    return {
      shardId: shard.ShardId!,
      parentShardId: shard.ParentShardId,
      after: saved?.after,
      done: saved?.done === true || (latest && closed),
      startAt: latest ? 'LATEST' : 'TRIM_HORIZON',
      trimmed: false,
      exhausted: false,
      pending: [],
    };
  }

  private async shardIterator(shard: ShardState): Promise<string | undefined> {
    const request = { StreamArn: this.streamArn!, ShardId: shard.shardId };
    if (shard.after && !shard.trimmed) {
      try {
        const { ShardIterator } = await this.options.streams.send(
          new GetShardIteratorCommand({
            ...request,
            ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
            SequenceNumber: shard.after,
          }),
        );
        return ShardIterator;
      } catch (error) {
        const name = errorName(error);
        if (name !== 'TrimmedDataAccessException' && name !== 'ValidationException') throw error;
        this.logger.warn(
          { shardId: shard.shardId, after: shard.after, problem: errorMessage(error) },
          'Cannot resume the shard after its checkpoint: reading it from its oldest record',
        );
      }
    }
    const type: ShardIteratorType = shard.after || shard.trimmed ? 'TRIM_HORIZON' : shard.startAt;
    const { ShardIterator } = await this.options.streams.send(
      new GetShardIteratorCommand({ ...request, ShardIteratorType: type }),
    );
    shard.trimmed = false;
    return ShardIterator;
  }

  private async pollShard(shard: ShardState): Promise<ShardPoll> {
    let read = 0;
    if (!shard.exhausted) {
      shard.iterator ??= await this.shardIterator(shard);
      if (shard.iterator === undefined) {
        shard.exhausted = true;
      } else {
        let response;
        try {
          response = await this.options.streams.send(
            new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: RECORDS_PER_READ }),
          );
        } catch (error) {
          return this.recoverShardRead(shard, error);
        }
        shard.iterator = response.NextShardIterator;
        if (!shard.iterator) shard.exhausted = true;
        const readAt = Date.now();
        for (const sdkRecord of response.Records ?? []) {
          const record = toLambdaRecord(sdkRecord, {
            arn: this.streamArn!,
            region: this.options.region,
          });
          // After TRIM_HORIZON for lack of a usable checkpoint: what is done stays done.
          if (isAtOrBefore(sequenceNumberOf(record), shard.after)) continue;
          shard.pending.push({ record, wanted: this.filter(record), readAt });
          read += 1;
        }
      }
    }
    const processed = await this.processPending(shard);
    if (processed === 'stopped') return 'stopped';
    if (shard.exhausted && shard.pending.length === 0 && !shard.done) {
      shard.done = true;
      this.checkpointDirty = true;
      this.describeSoon = true;
      this.logger.info({ shardId: shard.shardId }, 'Stream shard closed and fully processed');
    }
    return read > 0 ? 'busy' : processed;
  }

  /** A failed GetRecords: expired or trimmed iterators are replaced; anything else is thrown. */
  private recoverShardRead(shard: ShardState, error: unknown): ShardPoll {
    shard.iterator = undefined;
    // Unsettled records will be read again from the checkpoint.
    shard.pending = [];
    const name = errorName(error);
    if (name === 'ExpiredIteratorException') {
      this.logger.info({ shardId: shard.shardId }, 'Shard iterator expired: taking a fresh one');
      return 'busy';
    }
    if (name === 'TrimmedDataAccessException') {
      this.logger.warn(
        { shardId: shard.shardId, after: shard.after },
        'Stream records were trimmed before they were read: continuing from the oldest record left',
      );
      shard.trimmed = true;
      return 'busy';
    }
    // The stream or shard may be gone (table deleted): look again before the next read.
    this.describeSoon = true;
    throw error;
  }

  /** Delivers the shard's pending records batch by batch, skipping what the filter rejects. */
  private async processPending(shard: ShardState): Promise<Exclude<ShardPoll, 'busy'>> {
    const { batchSize, maximumBatchingWindowInSeconds } = this.options.settings;
    while (!this.stopping) {
      let skipped: PendingRecord | undefined;
      while (shard.pending.length > 0 && !shard.pending[0].wanted) skipped = shard.pending.shift();
      if (skipped) {
        shard.after = sequenceNumberOf(skipped.record);
        this.checkpointDirty = true;
      }
      if (shard.pending.length === 0) return 'idle';

      const batch: DynamoDBRecord[] = [];
      let consumed = 0;
      for (const [index, pending] of shard.pending.entries()) {
        if (batch.length === batchSize) break;
        if (pending.wanted) {
          batch.push(pending.record);
          consumed = index + 1;
        }
      }
      const windowMs = maximumBatchingWindowInSeconds * 1000;
      const gathering =
        batch.length < batchSize &&
        !shard.exhausted &&
        Date.now() - shard.pending[0].readAt < windowMs;
      if (gathering) return 'waiting';

      const settled = await settleBatch(batch, this.options.settings, this.settlementPorts(shard));
      if (!settled) return 'stopped';
      shard.pending.splice(0, consumed);
    }
    return 'stopped';
  }

  private settlementPorts(shard: ShardState): SettlementPorts {
    return {
      invoke: (records) => this.invoke(records, shard),
      checkpoint: async (sequenceNumber) => {
        shard.after = sequenceNumber;
        this.checkpointDirty = true;
        await this.saveCheckpoint();
      },
      discard: (discarded) => this.discard(discarded, shard),
      pause: async (ms) => {
        if (this.stopping) return false;
        await this.sleep(ms, false);
        return !this.stopping;
      },
      now: this.now,
    };
  }

  private async invoke(
    records: readonly DynamoDBRecord[],
    shard: ShardState,
  ): Promise<InvokeOutcome> {
    const context = lambdaContext(this.identity);
    // Each invocation gets its own copy, as each Lambda invocation gets its own JSON.
    const event: DynamoDBStreamEvent = { Records: structuredClone([...records]) };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            Object.assign(new Error(`Task timed out after ${this.identity.timeoutMs} ms`), {
              name: 'TimeoutError',
            }),
          ),
        this.identity.timeoutMs,
      );
    });
    let outcome: InvokeOutcome;
    try {
      const response: unknown = await Promise.race([
        Promise.resolve().then(() => this.options.handler(event, context)),
        timeout,
      ]);
      outcome = interpretResponse(response, records, this.options.settings.reportBatchItemFailures);
    } catch (error) {
      outcome = { kind: 'error', error };
    } finally {
      clearTimeout(timer);
    }
    if (outcome.kind !== 'success') {
      this.logger.warn(
        {
          shardId: shard.shardId,
          awsRequestId: context.awsRequestId,
          batchSize: records.length,
          firstSequenceNumber: records[0]?.dynamodb?.SequenceNumber,
          outcome: outcome.kind,
          ...(outcome.kind === 'error' && { err: errorMessage(outcome.error) }),
          ...(outcome.kind === 'invalid-response' && { reason: outcome.reason }),
          ...(outcome.kind === 'partial' && { firstFailedIndex: outcome.firstFailedIndex }),
        },
        'Stream handler failed the batch',
      );
    }
    return outcome;
  }

  private async discard(discarded: Discarded, shard: ShardState): Promise<void> {
    const { region, accountId, functionName } = this.identity;
    const message = onFailureMessage(discarded, {
      shardId: shard.shardId,
      streamArn: this.streamArn!,
      functionArn: functionArn(region, accountId, functionName),
    });
    this.logger.error(
      {
        ...message.requestContext,
        ...message.DDBStreamBatchInfo,
        lastError: message.lastError,
        failureFile: this.failureFile?.path,
      },
      'Stream records discarded to the on-failure destination',
    );
    if (!this.failureFile) return;
    try {
      await this.failureFile.append(message);
    } catch (error) {
      this.logger.error(
        { failureFile: this.failureFile.path, err: errorMessage(error) },
        'Could not write to the on-failure file',
      );
    }
  }

  private async saveCheckpoint(): Promise<void> {
    if (!this.checkpointFile || !this.streamArn || !this.checkpointDirty) return;
    const shards: Record<string, ShardCheckpoint> = {};
    for (const shard of this.shards.values()) {
      if (shard.done) shards[shard.shardId] = { done: true };
      else if (shard.after) shards[shard.shardId] = { after: shard.after };
    }
    const checkpoint: Checkpoint = { streamArn: this.streamArn, shards };
    try {
      await this.checkpointFile.save(checkpoint);
      this.loaded = checkpoint;
      this.checkpointDirty = false;
    } catch (error) {
      this.logger.error(
        { file: this.checkpointFile.path, err: errorMessage(error) },
        'Could not save the stream checkpoint; will try again',
      );
    }
  }

  /** The loop's only wait; `wake` ends it early (stop always, drained() only between polls). */
  private sleep(ms: number, endsOnDrain: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.endSleep?.(), ms);
      this.endSleep = () => {
        clearTimeout(timer);
        this.endSleep = undefined;
        resolve();
      };
      this.sleepEndsOnDrain = endsOnDrain;
    });
  }

  private wake(forStop: boolean): void {
    if (this.endSleep && (forStop || this.sleepEndsOnDrain)) this.endSleep();
  }
}
