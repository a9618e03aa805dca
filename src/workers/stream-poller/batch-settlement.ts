/**
 * How an event source mapping gets one batch of a shard done, apart from any I/O: invoke,
 * read the answer, checkpoint, retry, bisect, or give the records up to the on-failure
 * destination. The rules follow Lambda's documented behaviour for stream sources:
 *
 * - success (no answer, `null`, or no/empty `batchItemFailures`): checkpoint the whole batch;
 * - partial (`batchItemFailures`, when reportBatchItemFailures is on): the records before the
 *   lowest failed one are done, the batch is retried from that one on;
 * - an `itemIdentifier` that is empty, not a string, or not a record of the batch, or a
 *   `batchItemFailures` that is not a list: the whole batch failed;
 * - a function error (throw, timeout) or a failure of the batch's first record: with
 *   bisectBatchOnFunctionError a batch of two or more is split in halves, each settled on its
 *   own, and the split does not count as a retry; otherwise it is retried as it is;
 * - after `retryAttempts` failed retries, or once its records are older than
 *   `maximumRecordAgeSeconds`, the rest of the batch is discarded (on-failure destination)
 *   and the shard moves on.
 *
 * A retry counts every failed invocation since the batch (or its half) started, partial ones
 * included: with retryAttempts 1, [1,2,3] failing at 2 and then [2,3] failing at 2 gives
 * up [2,3], as Lambda does. With bisection on, a partial answer splits the batch at the
 * failed record instead ("bisected at the returned sequence number"), which is no retry.
 */
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import type { StreamEventSourceSettings } from '../../../lambdas/stream-settings';

/** What one invocation of the handler came to. */
export type InvokeOutcome =
  | { readonly kind: 'success' }
  /** Records before `firstFailedIndex` succeeded; from it on they are to be retried. */
  | { readonly kind: 'partial'; readonly firstFailedIndex: number }
  | { readonly kind: 'error'; readonly error: unknown }
  /** The answer said the batch failed without saying where (bad itemIdentifier and the like). */
  | { readonly kind: 'invalid-response'; readonly reason: string };

export type DiscardCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

export interface Discarded {
  readonly records: readonly DynamoDBRecord[];
  readonly condition: DiscardCondition;
  /** Invocations that carried (some of) these records; 0 when they expired unseen. */
  readonly invokeCount: number;
  /** The last failure, for the local on-failure file. */
  readonly lastOutcome?: InvokeOutcome;
}

export interface SettlementPorts {
  invoke(records: readonly DynamoDBRecord[]): Promise<InvokeOutcome>;
  /** The records up to and including this one are done (delivered, skipped or discarded). */
  checkpoint(sequenceNumber: string): Promise<void>;
  discard(discarded: Discarded): Promise<void>;
  /** Waits before a retry; `false` when the poller is stopping and the batch must be left. */
  pause(ms: number): Promise<boolean>;
  now(): number;
}

type SettlementSettings = Pick<
  StreamEventSourceSettings,
  'bisectBatchOnFunctionError' | 'retryAttempts' | 'maximumRecordAgeSeconds'
>;

const FIRST_RETRY_DELAY_MS = 50;
const MAX_RETRY_DELAY_MS = 1_000;

/** Doubling from 50 ms, capped at 1 s: quick locally, yet no busy loop on a broken handler. */
export function retryDelayMs(failedInvocations: number): number {
  return Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS * 2 ** (failedInvocations - 1));
}

export function sequenceNumberOf(record: DynamoDBRecord): string {
  const sequenceNumber = record.dynamodb?.SequenceNumber;
  if (!sequenceNumber) throw new Error(`Stream record ${record.eventID} has no SequenceNumber.`);
  return sequenceNumber;
}

/**
 * Reads a handler's answer the way Lambda does. Without reportBatchItemFailures the answer
 * is ignored: anything but a throw is a success.
 */
export function interpretResponse(
  response: unknown,
  records: readonly DynamoDBRecord[],
  reportBatchItemFailures: boolean,
): InvokeOutcome {
  if (!reportBatchItemFailures || response === undefined || response === null) {
    return { kind: 'success' };
  }
  if (typeof response !== 'object') return { kind: 'success' };
  const failures = (response as Partial<DynamoDBBatchResponse>).batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'success' };
  if (!Array.isArray(failures)) {
    return { kind: 'invalid-response', reason: 'batchItemFailures is not a list' };
  }
  if (failures.length === 0) return { kind: 'success' };
  let lowest = Number.POSITIVE_INFINITY;
  for (const failure of failures as unknown[]) {
    const identifier =
      typeof failure === 'object' && failure !== null
        ? (failure as { itemIdentifier?: unknown }).itemIdentifier
        : undefined;
    const index =
      typeof identifier === 'string' && identifier !== ''
        ? records.findIndex((record) => record.dynamodb?.SequenceNumber === identifier)
        : -1;
    if (index < 0) {
      return {
        kind: 'invalid-response',
        reason: `itemIdentifier ${JSON.stringify(identifier)} is not a SequenceNumber of the batch`,
      };
    }
    lowest = Math.min(lowest, index);
  }
  return { kind: 'partial', firstFailedIndex: lowest };
}

function isOlderThan(record: DynamoDBRecord, maxAgeSeconds: number, now: number): boolean {
  const created = record.dynamodb?.ApproximateCreationDateTime;
  return maxAgeSeconds >= 0 && created !== undefined && now - created * 1000 > maxAgeSeconds * 1000;
}

/**
 * Gets one batch done: every record ends up delivered or discarded, and checkpointed.
 * @returns false when the poller stopped before that; the batch is then left unsettled and
 *   will be read again from the checkpoint.
 */
export async function settleBatch(
  batch: readonly DynamoDBRecord[],
  settings: SettlementSettings,
  ports: SettlementPorts,
): Promise<boolean> {
  let queue = batch;
  let failedInvocations = 0;
  let invokeCount = 0;
  let lastOutcome: InvokeOutcome | undefined;
  while (queue.length > 0) {
    // Records are in stream order, oldest first: the expired ones are a prefix.
    const firstFresh = queue.findIndex(
      (record) => !isOlderThan(record, settings.maximumRecordAgeSeconds, ports.now()),
    );
    const expired = queue.slice(0, firstFresh < 0 ? queue.length : firstFresh);
    if (expired.length > 0) {
      await ports.discard({
        records: expired,
        condition: 'RecordAgeExceeded',
        invokeCount,
        lastOutcome,
      });
      await ports.checkpoint(sequenceNumberOf(expired.at(-1)!));
      queue = queue.slice(expired.length);
      continue;
    }

    invokeCount += 1;
    const outcome = await ports.invoke(queue);
    if (outcome.kind === 'success') {
      await ports.checkpoint(sequenceNumberOf(queue.at(-1)!));
      return true;
    }
    lastOutcome = outcome;
    const firstFailed = outcome.kind === 'partial' ? outcome.firstFailedIndex : 0;
    if (firstFailed > 0) {
      await ports.checkpoint(sequenceNumberOf(queue[firstFailed - 1]));
      queue = queue.slice(firstFailed);
      // With bisection on, Lambda splits the batch at the failed record: a split, no retry.
      if (settings.bisectBatchOnFunctionError) continue;
    } else if (settings.bisectBatchOnFunctionError && queue.length > 1) {
      const middle = Math.ceil(queue.length / 2);
      return (
        (await settleBatch(queue.slice(0, middle), settings, ports)) &&
        (await settleBatch(queue.slice(middle), settings, ports))
      );
    }

    failedInvocations += 1;
    if (settings.retryAttempts >= 0 && failedInvocations > settings.retryAttempts) {
      await ports.discard({
        records: queue,
        condition: 'RetryAttemptsExhausted',
        invokeCount,
        lastOutcome,
      });
      await ports.checkpoint(sequenceNumberOf(queue.at(-1)!));
      return true;
    }
    if (!(await ports.pause(retryDelayMs(failedInvocations)))) return false;
  }
  return true;
}
