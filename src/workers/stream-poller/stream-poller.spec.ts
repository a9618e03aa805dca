/**
 * The poller against the run's real DynamoDB Local: a table of its own per test (the real
 * User table definition, stream NEW_IMAGE), written with the SDK, read through the Streams API.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type {
  Context,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
} from 'aws-lambda';
import {
  type StreamEventSourceSettings,
  USER_TABLE_TRIGGER_STREAM_SETTINGS,
} from '../../../lambdas/stream-settings';
import { testEndpoint } from '../../../test/support/test-app';
import { createDynamoDbClient, createDynamoDbStreamsClient } from '../../platform/aws/clients';
import { USER_KEY, userTableDefinitions } from '../../users/persistence/user-tables';
import type { OnFailureMessage } from './failure-file';
import { StreamPoller, type StreamPollerOptions } from './stream-poller';

const REGION = 'eu-west-1';
const WAIT_MS = 10_000;

interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly details: object;
}

/** Fails with a message instead of hanging until jest's timeout. */
async function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const usernameOf = (record: DynamoDBRecord) => record.dynamodb?.NewImage?.[USER_KEY]?.S;

class Fixture {
  readonly tableName = `StreamPoller-${randomBytes(4).toString('hex')}`;
  readonly dynamodb: DynamoDBClient;
  readonly streams: DynamoDBStreamsClient;
  readonly logs: LogLine[] = [];
  readonly pollers: StreamPoller[] = [];
  dir = '';

  constructor() {
    const endpoint = testEndpoint();
    this.dynamodb = createDynamoDbClient({ region: REGION, endpoint });
    this.streams = createDynamoDbStreamsClient({ region: REGION, endpoint });
  }

  get tables() {
    return {
      users: this.tableName,
      userEmails: 'unused',
      sessions: 'unused',
      rateLimits: 'unused',
    };
  }

  get checkpointFile() {
    return join(this.dir, 'checkpoint.json');
  }

  get failureFile() {
    return join(this.dir, 'failures.jsonl');
  }

  async setUp(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'stream-poller-'));
    await this.createTable();
  }

  async createTable(): Promise<void> {
    await this.dynamodb.send(new CreateTableCommand(userTableDefinitions(this.tables)[0].create));
  }

  async tearDown(): Promise<void> {
    await Promise.all(this.pollers.map((poller) => poller.stop()));
    await this.dynamodb
      .send(new DeleteTableCommand({ TableName: this.tableName }))
      .catch(() => undefined);
    this.dynamodb.destroy();
    this.streams.destroy();
    await rm(this.dir, { recursive: true, force: true });
  }

  async streamArn(): Promise<string> {
    const { Table } = await this.dynamodb.send(
      new DescribeTableCommand({ TableName: this.tableName }),
    );
    return Table!.LatestStreamArn!;
  }

  async register(...usernames: string[]): Promise<void> {
    for (const username of usernames) {
      await this.dynamodb.send(
        new PutItemCommand({
          TableName: this.tableName,
          // As this service writes a registration: the trigger's INSERT filter wants the hash.
          Item: {
            [USER_KEY]: { S: username },
            passwordHash: { S: '$argon2id$stand-in' },
            activationStatus: { S: 'NONE' },
          },
        }),
      );
    }
  }

  async start(
    handler: StreamPollerOptions['handler'],
    settings: Partial<StreamEventSourceSettings> = {},
    options: Partial<StreamPollerOptions> = {},
  ): Promise<StreamPoller> {
    const poller = await StreamPoller.start({
      dynamodb: this.dynamodb,
      streams: this.streams,
      tableName: this.tableName,
      region: REGION,
      settings: { ...USER_TABLE_TRIGGER_STREAM_SETTINGS, ...settings },
      handler,
      functionName: 'user-table-trigger',
      checkpointFile: this.checkpointFile,
      failureFile: this.failureFile,
      pollIntervalMs: 50,
      logger: {
        info: (details, message) => this.logs.push({ level: 'info', message, details }),
        warn: (details, message) => this.logs.push({ level: 'warn', message, details }),
        error: (details, message) => this.logs.push({ level: 'error', message, details }),
      },
      ...options,
    });
    this.pollers.push(poller);
    return poller;
  }

  async failures(): Promise<OnFailureMessage[]> {
    const text = await readFile(this.failureFile, 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as OnFailureMessage);
  }
}

/** A handler that records each invocation and answers as `answer` says. */
function recorder(
  answer: (usernames: string[], call: number) => DynamoDBBatchResponse | void = () => undefined,
) {
  const calls: { event: DynamoDBStreamEvent; context: Context; usernames: string[] }[] = [];
  const handler = (event: DynamoDBStreamEvent, context: Context) => {
    const usernames = event.Records.map((record) => usernameOf(record)!);
    calls.push({ event, context, usernames });
    return Promise.resolve(answer(usernames, calls.length));
  };
  return { calls, handler, batches: () => calls.map((call) => call.usernames) };
}

describe('StreamPoller (DynamoDB Local)', () => {
  let fixture: Fixture;
  beforeEach(async () => {
    fixture = new Fixture();
    await fixture.setUp();
  });
  afterEach(async () => {
    await fixture.tearDown();
  });

  it('hands the handler INSERT records only, as real DynamoDBStreamEvent batches', async () => {
    const { calls, handler, batches } = recorder();
    await fixture.register('alice');
    await fixture.dynamodb.send(
      new UpdateItemCommand({
        TableName: fixture.tableName,
        Key: { [USER_KEY]: { S: 'alice' } },
        UpdateExpression: 'SET activationStatus = :sent, avatar = :avatar',
        ExpressionAttributeValues: {
          ':sent': { S: 'MAIL_SENT' },
          ':avatar': { B: Buffer.from('hi') },
        },
      }),
    );
    await fixture.dynamodb.send(
      new DeleteItemCommand({ TableName: fixture.tableName, Key: { [USER_KEY]: { S: 'alice' } } }),
    );
    await fixture.dynamodb.send(
      new PutItemCommand({
        TableName: fixture.tableName,
        Item: {
          [USER_KEY]: { S: 'bob' },
          passwordHash: { S: '$argon2id$stand-in' },
          avatar: { B: Buffer.from('hi') },
          tags: { L: [{ S: 'x' }] },
        },
      }),
    );
    const poller = await fixture.start(handler);
    await within(poller.drained(), 'drained');

    expect(batches()).toEqual([['alice', 'bob']]);
    const [alice, bob] = calls[0].event.Records;
    const streamArn = await fixture.streamArn();
    expect(bob).toEqual({
      eventID: expect.any(String),
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: REGION,
      dynamodb: {
        ApproximateCreationDateTime: expect.any(Number),
        Keys: { [USER_KEY]: { S: 'bob' } },
        NewImage: {
          [USER_KEY]: { S: 'bob' },
          passwordHash: { S: '$argon2id$stand-in' },
          avatar: { B: 'aGk=' },
          tags: { L: [{ S: 'x' }] },
        },
        SequenceNumber: expect.stringMatching(/^\d+$/),
        SizeBytes: expect.any(Number),
        StreamViewType: 'NEW_IMAGE',
      },
      eventSourceARN: streamArn,
    });
    expect(BigInt(bob.dynamodb!.SequenceNumber!)).toBeGreaterThan(
      BigInt(alice.dynamodb!.SequenceNumber!),
    );
    // Epoch seconds (DynamoDB Local rounds down to the minute).
    expect(Math.abs(bob.dynamodb!.ApproximateCreationDateTime! - Date.now() / 1000)).toBeLessThan(
      120,
    );
    expect(JSON.parse(JSON.stringify(calls[0].event))).toEqual(calls[0].event);
    const { context } = calls[0];
    expect(context.functionName).toBe('user-table-trigger');
    expect(context.awsRequestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-/);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
  });

  it('honours the batch size, in stream order', async () => {
    const { handler, batches } = recorder();
    await fixture.register('u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7');
    const poller = await fixture.start(handler, { batchSize: 3 });
    await within(poller.drained(), 'drained');
    expect(batches()).toEqual([['u1', 'u2', 'u3'], ['u4', 'u5', 'u6'], ['u7']]);
  });

  it('after a partial batch failure retries the lowest failed record and the ones after it only', async () => {
    const { calls, handler, batches } = recorder((usernames, call) =>
      call === 1
        ? {
            batchItemFailures: [3, 1].map((index) => ({
              itemIdentifier: calls[0].event.Records[index].dynamodb!.SequenceNumber!,
            })),
          }
        : undefined,
    );
    await fixture.register('u1', 'u2', 'u3', 'u4', 'u5');
    const poller = await fixture.start(handler);
    await within(poller.drained(), 'drained');
    expect(batches()).toEqual([
      ['u1', 'u2', 'u3', 'u4', 'u5'],
      ['u2', 'u3', 'u4', 'u5'],
    ]);
    expect(await fixture.failures()).toEqual([]);
  });

  it('isolates a poison record by bisection, delivers the others and files the poison one', async () => {
    const delivered: string[] = [];
    const { handler, batches } = recorder((usernames) => {
      if (usernames.includes('poison')) throw new Error('cannot handle poison');
      delivered.push(...usernames);
    });
    await fixture.register('u1', 'u2', 'u3', 'poison', 'u5', 'u6');
    const poller = await fixture.start(handler, { retryAttempts: 2 });
    await within(poller.drained(), 'drained');

    expect(delivered).toEqual(['u1', 'u2', 'u3', 'u5', 'u6']);
    expect(batches().filter((batch) => batch.length === 1 && batch[0] === 'poison')).toHaveLength(
      3,
    );
    const failures = await fixture.failures();
    expect(failures).toHaveLength(1);
    const [failure] = failures;
    const poison = failure.records[0];
    expect(failure).toMatchObject({
      requestContext: {
        functionArn: `arn:aws:lambda:${REGION}:000000000000:function:user-table-trigger`,
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 3,
      },
      responseContext: { functionError: 'Unhandled' },
      version: '1.0',
      DDBStreamBatchInfo: {
        shardId: expect.stringMatching(/^shardId-/),
        startSequenceNumber: poison.dynamodb!.SequenceNumber,
        endSequenceNumber: poison.dynamodb!.SequenceNumber,
        approximateArrivalOfFirstRecord: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        batchSize: 1,
        streamArn: await fixture.streamArn(),
      },
      lastError: 'Error: cannot handle poison',
    });
    expect(usernameOf(poison)).toBe('poison');
  });

  it('discards records older than the maximum record age unprocessed', async () => {
    const { handler, calls } = recorder();
    await fixture.register('u1', 'u2');
    const twoHoursLater = () => Date.now() + 2 * 3600 * 1000;
    const poller = await fixture.start(handler, {}, { now: twoHoursLater });
    await within(poller.drained(), 'drained');
    expect(calls).toEqual([]);
    const failures = await fixture.failures();
    expect(
      failures.map((f) => [f.requestContext.condition, f.DDBStreamBatchInfo.batchSize]),
    ).toEqual([['RecordAgeExceeded', 2]]);
  });

  it('resumes from its checkpoint file after a restart: nothing skipped, nothing replayed', async () => {
    const first = recorder();
    await fixture.register('u1', 'u2', 'u3');
    const before = await fixture.start(first.handler);
    await within(before.drained(), 'first drained');
    const streamArn = await fixture.streamArn();
    await before.stop();
    const saved = JSON.parse(await readFile(fixture.checkpointFile, 'utf8')) as {
      streamArn: string;
    };
    expect(saved.streamArn).toBe(streamArn);

    await fixture.register('u4', 'u5');
    const second = recorder();
    const after = await fixture.start(second.handler);
    await within(after.drained(), 'second drained');

    expect(first.batches().flat()).toEqual(['u1', 'u2', 'u3']);
    expect(second.batches().flat()).toEqual(['u4', 'u5']);
  });

  it('sets a corrupt checkpoint file aside and starts over from the trim horizon', async () => {
    await writeFile(fixture.checkpointFile, '{"version":1,"streamArn":');
    await fixture.register('u1', 'u2');
    const { handler, batches } = recorder();
    const poller = await fixture.start(handler);
    await within(poller.drained(), 'drained');

    expect(batches().flat()).toEqual(['u1', 'u2']);
    expect(fixture.logs).toContainEqual(
      expect.objectContaining({ level: 'warn', message: expect.stringMatching(/Unreadable/) }),
    );
    const files = await readdir(fixture.dir);
    expect(files.some((name) => name.startsWith('checkpoint.json.unreadable-'))).toBe(true);
    const streamArn = await fixture.streamArn();
    await poller.stop();
    const saved = JSON.parse(await readFile(fixture.checkpointFile, 'utf8')) as {
      streamArn: string;
    };
    expect(saved.streamArn).toBe(streamArn);
  });

  it('waits for a table that does not exist yet, without crashing', async () => {
    await fixture.dynamodb.send(new DeleteTableCommand({ TableName: fixture.tableName }));
    const { handler, batches } = recorder();
    const poller = await fixture.start(handler);
    await until(
      () => fixture.logs.some((line) => /not available/.test(line.message)),
      'the missing table to be logged',
    );
    await fixture.createTable();
    await fixture.register('late');
    await within(poller.drained(), 'drained');
    expect(batches()).toEqual([['late']]);
    expect(fixture.logs.filter((line) => /not available/.test(line.message))).toHaveLength(1);
  });

  it('on stop lets the batch in flight finish and keeps its checkpoint', async () => {
    let release: () => void = () => undefined;
    const inFlight = new Promise<void>((resolve) => (release = resolve));
    const started: string[][] = [];
    let finished = false;
    await fixture.register('u1');
    await fixture.start(async (event) => {
      started.push(event.Records.map((record) => usernameOf(record)!));
      await inFlight;
      finished = true;
    });
    await until(() => started.length === 1, 'the handler to be called');
    const stopped = fixture.pollers[0].stop();
    release();
    await within(stopped, 'stop');
    expect(finished).toBe(true);

    await fixture.register('u2');
    const { handler, batches } = recorder();
    const again = await fixture.start(handler);
    await within(again.drained(), 'drained');
    expect(batches()).toEqual([['u2']]);
  });
});
