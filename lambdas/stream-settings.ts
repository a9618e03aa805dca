/**
 * The event source mapping of the user-table-trigger Lambda (User table stream → trigger),
 * in one place: the CDK stack deploys these values and the local stream poller
 * (src/workers/stream-poller) plays them over DynamoDB Local, so both modes retry, filter
 * and batch alike. Plain typed constants, no imports: the stack and the poller both read it.
 */

/** Where a mapping without a checkpoint starts reading a shard. */
export type StartingPosition = 'TRIM_HORIZON' | 'LATEST';

export interface StreamEventSourceSettings {
  /**
   * CloudFormation `StartingPosition`; CDK `startingPosition: StartingPosition.TRIM_HORIZON`.
   * TRIM_HORIZON: a user registered while the trigger was down still gets a mail.
   */
  readonly startingPosition: StartingPosition;
  /** CloudFormation `BatchSize`; CDK `batchSize`. Records per invocation, at most. */
  readonly batchSize: number;
  /**
   * CloudFormation `MaximumBatchingWindowInSeconds`; CDK `maxBatchingWindow`
   * (Duration.seconds). 0: invoke as soon as records are there, no gathering.
   */
  readonly maximumBatchingWindowInSeconds: number;
  /**
   * CloudFormation `BisectBatchOnFunctionError`; CDK `bisectBatchOnError`. A failing batch is
   * split in halves and each half retried, which isolates a poison record; splitting does
   * not count as a retry.
   */
  readonly bisectBatchOnFunctionError: boolean;
  /**
   * CloudFormation `MaximumRetryAttempts`; CDK `retryAttempts`. Failed invocations of a batch
   * after the first, before it goes to the on-failure destination; -1 retries until the
   * records expire.
   */
  readonly retryAttempts: number;
  /**
   * CloudFormation `MaximumRecordAgeInSeconds`; CDK `maxRecordAge` (Duration.seconds). Older
   * records go to the on-failure destination unprocessed; -1 means no limit.
   */
  readonly maximumRecordAgeSeconds: number;
  /**
   * CloudFormation `FunctionResponseTypes: ['ReportBatchItemFailures']`; CDK
   * `reportBatchItemFailures`. The handler may answer `{batchItemFailures: [...]}` so that
   * only the records from the lowest failed one on are retried.
   */
  readonly reportBatchItemFailures: boolean;
  /** CloudFormation `ParallelizationFactor`; CDK `parallelizationFactor`. Batches per shard at once. */
  readonly parallelizationFactor: number;
  /**
   * CloudFormation `FilterCriteria: {Filters: [{Pattern}]}`; CDK `filters` (one
   * `FilterCriteria.filter(...)` per pattern). Lambda event-filtering patterns as JSON text,
   * matched against the Lambda-shaped record; a record that matches none is skipped and
   * checkpointed, never delivered.
   */
  readonly filterPatterns: readonly string[];
}

/**
 * Every INSERT of an item this service wrote: a registration (with its request id, or from
 * before requests had one), which always has a `passwordHash`. An item of the Spring app
 * copied into the table (a plaintext `password`, no hash: docs/taking-over-the-spring-app.md)
 * starts no mail: its person asks for one ("no activation mail?").
 */
export const INSERTS_PATTERN = JSON.stringify({
  eventName: ['INSERT'],
  dynamodb: { NewImage: { passwordHash: { S: [{ exists: true }] } } },
});

/**
 * A MODIFY that opens a mail request: the item has an open `mailRequestId` and no send
 * claim (a request's own write removes any claim; the send task's claim write, which the
 * execution is already running for, is left out). A MODIFY that closes a request (mail
 * sent, activated) has no `mailRequestId`, and a REMOVE (a TTL deletion, a replaced pending
 * account) matches neither pattern: none of them ever starts a mail.
 */
export const MAIL_REQUESTS_PATTERN = JSON.stringify({
  eventName: ['MODIFY'],
  dynamodb: {
    NewImage: {
      // `exists` matches leaves only, so both name the string inside the attribute.
      mailRequestId: { S: [{ exists: true }] },
      mailClaimId: { S: [{ exists: false }] },
    },
  },
});

export const USER_TABLE_TRIGGER_STREAM_SETTINGS: StreamEventSourceSettings = {
  startingPosition: 'TRIM_HORIZON',
  batchSize: 10,
  maximumBatchingWindowInSeconds: 0,
  bisectBatchOnFunctionError: true,
  // Rides out a passing throttle of Step Functions; a record that keeps failing is set
  // aside instead of holding up the registrations behind it on the shard.
  retryAttempts: 5,
  // A registration whose mail is an hour late is better reported than sent.
  maximumRecordAgeSeconds: 3600,
  reportBatchItemFailures: true,
  parallelizationFactor: 1,
  filterPatterns: [INSERTS_PATTERN, MAIL_REQUESTS_PATTERN],
};
