/**
 * The local on-failure destination: one JSON line per discarded batch, in the shape of the
 * message Lambda sends to an SQS/SNS on-failure destination for a stream source, so that
 * tooling written against one reads the other. AWS sends only the batch's coordinates;
 * locally the line also carries the records themselves and the last error, because a
 * developer reads this file rather than the stream.
 */
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DynamoDBRecord } from 'aws-lambda';
import type { Discarded, InvokeOutcome } from './batch-settlement';

export interface OnFailureMessage {
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: Discarded['condition'];
    readonly approximateInvokeCount: number;
  };
  readonly responseContext?: {
    readonly statusCode: number;
    readonly executedVersion: string;
    readonly functionError?: 'Unhandled';
  };
  readonly version: '1.0';
  readonly timestamp: string;
  readonly DDBStreamBatchInfo: {
    readonly shardId: string;
    readonly startSequenceNumber: string;
    readonly endSequenceNumber: string;
    readonly approximateArrivalOfFirstRecord?: string;
    readonly approximateArrivalOfLastRecord?: string;
    readonly batchSize: number;
    readonly streamArn: string;
  };
  /** Local only: the discarded records, as the handler received them. */
  readonly records: readonly DynamoDBRecord[];
  /** Local only: why the last invocation failed. */
  readonly lastError?: string;
}

function arrival(record: DynamoDBRecord): string | undefined {
  const seconds = record.dynamodb?.ApproximateCreationDateTime;
  return seconds === undefined ? undefined : new Date(seconds * 1000).toISOString();
}

function describeFailure(outcome: InvokeOutcome | undefined): string | undefined {
  switch (outcome?.kind) {
    case 'error': {
      const error = outcome.error as { name?: unknown; message?: unknown } | null;
      return typeof error?.message === 'string'
        ? `${typeof error.name === 'string' ? error.name : 'Error'}: ${error.message}`
        : String(outcome.error);
    }
    case 'invalid-response':
      return `Invalid batch response: ${outcome.reason}`;
    case 'partial':
      return 'The handler reported these records in batchItemFailures';
    default:
      return undefined;
  }
}

export function onFailureMessage(
  discarded: Discarded,
  batch: { readonly shardId: string; readonly streamArn: string; readonly functionArn: string },
  now = new Date(),
): OnFailureMessage {
  const first = discarded.records[0];
  const last = discarded.records.at(-1)!;
  return {
    requestContext: {
      requestId: randomUUID(),
      functionArn: batch.functionArn,
      condition: discarded.condition,
      approximateInvokeCount: discarded.invokeCount,
    },
    ...(discarded.invokeCount > 0 && {
      responseContext: {
        statusCode: 200,
        executedVersion: '$LATEST',
        ...(discarded.lastOutcome?.kind === 'error' && { functionError: 'Unhandled' as const }),
      },
    }),
    version: '1.0',
    timestamp: now.toISOString(),
    DDBStreamBatchInfo: {
      shardId: batch.shardId,
      startSequenceNumber: first.dynamodb?.SequenceNumber ?? '',
      endSequenceNumber: last.dynamodb?.SequenceNumber ?? '',
      approximateArrivalOfFirstRecord: arrival(first),
      approximateArrivalOfLastRecord: arrival(last),
      batchSize: discarded.records.length,
      streamArn: batch.streamArn,
    },
    records: discarded.records,
    lastError: describeFailure(discarded.lastOutcome),
  };
}

export class FailureFile {
  constructor(readonly path: string) {}

  async append(message: OnFailureMessage): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    await appendFile(this.path, `${JSON.stringify(message)}\n`, 'utf8');
  }
}
