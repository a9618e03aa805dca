/**
 * What the DynamoDB adapters share when a write is cancelled or a batch comes back partly
 * done: the reason codes of a cancelled transaction, and the jittered, growing pause
 * before the next attempt.
 */
import type { TransactionCanceledException } from '@aws-sdk/client-dynamodb';

/** The cancellation reason of an item whose condition did not hold. */
export const CONDITION_FAILED = 'ConditionalCheckFailed';

/** One code per item of the transaction, in its order (`None` for an item that was fine). */
export function reasonCodes(error: TransactionCanceledException): (string | undefined)[] {
  return (error.CancellationReasons ?? []).map((reason) => reason.Code);
}

/** Waits before attempt `attempt + 1`: up to 25 ms × 2^attempt, at random (full jitter). */
export function backOff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * 25 * 2 ** attempt));
}
