import {
  ExecutionAlreadyExists,
  SFNClient,
  SFNServiceException,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import type { LogEntry } from '../shared/log';
import { executionNameFor } from './execution-name';
import {
  createUserTableTriggerHandler,
  type UserTableTriggerHandler,
} from './user-table-trigger.handler';

const STATE_MACHINE_ARN =
  'arn:aws:states:us-east-1:123456789012:stateMachine:SF_CardStore_SendUserActivationMail';

let sequence = 100;

/** A record as the User table's stream (NEW_IMAGE) delivers it. */
function streamRecord(
  eventName: DynamoDBRecord['eventName'],
  image?: { username?: string; createdAt?: string; mailRequestId?: string },
): DynamoDBRecord {
  sequence += 1;
  const newImage = image && {
    ...(image.username !== undefined ? { username: { S: image.username } } : {}),
    ...(image.createdAt !== undefined ? { createdAt: { S: image.createdAt } } : {}),
    ...(image.mailRequestId !== undefined ? { mailRequestId: { S: image.mailRequestId } } : {}),
    activationStatus: { S: 'NONE' },
  };
  return {
    eventID: `event-${sequence}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      Keys: image?.username ? { username: { S: image.username } } : {},
      ...(newImage ? { NewImage: newImage } : {}),
      SequenceNumber: String(sequence).padStart(21, '0'),
      SizeBytes: 100,
      StreamViewType: 'NEW_IMAGE',
    },
    eventSourceARN:
      'arn:aws:dynamodb:us-east-1:123456789012:table/User/stream/2026-11-27T00:00:00.000',
  };
}

const insert = (username: string, createdAt = '2026-11-27T10:00:00.000Z') =>
  streamRecord('INSERT', { username, createdAt });
const batch = (...records: DynamoDBRecord[]): DynamoDBStreamEvent => ({ Records: records });
const sequenceNumberOf = (record: DynamoDBRecord) => record.dynamodb?.SequenceNumber ?? '';

describe('user-table-trigger (aws-sdk-client-mock on the SFN client)', () => {
  let sfn: AwsClientStub<SFNClient>;
  let logs: LogEntry[];
  let handler: UserTableTriggerHandler;

  beforeAll(() => {
    sfn = mockClient(SFNClient);
  });

  beforeEach(() => {
    sfn.reset();
    sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
      executionArn: `arn:aws:states:us-east-1:123456789012:execution:SF_CardStore_SendUserActivationMail:${input.name}`,
      startDate: new Date(),
    }));
    logs = [];
    handler = createUserTableTriggerHandler(
      { AWS_REGION: 'us-east-1', STEP_FUNCTION_ARN: STATE_MACHINE_ARN },
      { log: (entry) => logs.push(entry) },
    );
  });

  afterAll(() => sfn.restore());

  const startedInputs = () =>
    sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input);

  describe('mail requests', () => {
    const REQUEST = '0b7d6c1e-3f4a-4b5c-8d9e-0123456789ab';
    const CREATED = '2026-11-27T10:00:00.000Z';

    it('starts one execution per request, named after it, for an INSERT and a MODIFY alike', async () => {
      const records = [
        streamRecord('INSERT', { username: 'ann', createdAt: CREATED, mailRequestId: REQUEST }),
        // The same request's item written again (a release of its claim): the same name.
        streamRecord('MODIFY', { username: 'ann', createdAt: CREATED, mailRequestId: REQUEST }),
      ];

      const response = await handler(batch(...records));

      expect(response.batchItemFailures).toEqual([]);
      const name = executionNameFor('ann', CREATED, REQUEST);
      expect(startedInputs()).toEqual([
        {
          stateMachineArn: STATE_MACHINE_ARN,
          name,
          input: JSON.stringify({ username: 'ann', mailRequestId: REQUEST }),
        },
        {
          stateMachineArn: STATE_MACHINE_ARN,
          name,
          input: JSON.stringify({ username: 'ann', mailRequestId: REQUEST }),
        },
      ]);
      expect(name).not.toBe(executionNameFor('ann', CREATED));
    });

    it('skips a MODIFY without a request (a mail recorded, an activation) and a malformed request id', async () => {
      await handler(
        batch(
          streamRecord('MODIFY', { username: 'ann', createdAt: CREATED }),
          streamRecord('MODIFY', { username: 'ann', createdAt: CREATED, mailRequestId: 'x' }),
          streamRecord('REMOVE', { username: 'ann', createdAt: CREATED, mailRequestId: REQUEST }),
        ),
      );

      expect(startedInputs()).toEqual([]);
      expect(logs.map((entry) => entry.outcome)).toEqual(['SKIPPED', 'SKIPPED', 'SKIPPED']);
    });
  });

  it('starts one execution per INSERT with the ARN, a name from the user and {"username"}', async () => {
    const record = insert('alice');

    const response = await handler(batch(record));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(startedInputs()).toEqual([
      {
        stateMachineArn: STATE_MACHINE_ARN,
        name: executionNameFor('alice', '2026-11-27T10:00:00.000Z'),
        input: JSON.stringify({ username: 'alice' }),
      },
    ]);
    expect(logs).toEqual([
      expect.objectContaining({
        level: 'info',
        outcome: 'STARTED',
        username: 'alice',
        sequenceNumber: sequenceNumberOf(record),
      }),
    ]);
  });

  it('gives the same record delivered twice the same execution name', async () => {
    const record = insert('bob');

    await handler(batch(record));
    await handler(batch(structuredClone(record)));

    const [first, second] = startedInputs();
    expect(first?.name).toBeDefined();
    expect(second?.name).toBe(first?.name);
  });

  it('gives a username registered again (new createdAt) a new execution name', async () => {
    await handler(batch(insert('carol', '2026-11-27T10:00:00.000Z')));
    await handler(batch(insert('carol', '2026-11-28T10:00:00.000Z')));

    const [first, second] = startedInputs();
    expect(second?.name).not.toBe(first?.name);
  });

  it('counts ExecutionAlreadyExists as already started: a success', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    const record = insert('dave');

    const response = await handler(batch(record));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(logs).toEqual([expect.objectContaining({ outcome: 'ALREADY_STARTED' })]);
  });

  it('reports only the record whose start failed (throttled record 2 of 3)', async () => {
    const records = [insert('erin'), insert('frank'), insert('grace')];
    sfn.on(StartExecutionCommand, { input: JSON.stringify({ username: 'frank' }) }).rejects(
      new SFNServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'Rate exceeded',
      }),
    );

    const response = await handler(batch(...records));

    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: sequenceNumberOf(records[1]!) }],
    });
    expect(startedInputs().map((input) => input.input)).toEqual(
      ['erin', 'frank', 'grace'].map((username) => JSON.stringify({ username })),
    );
    // Records are started concurrently: their log lines may come in any order.
    expect(Object.fromEntries(logs.map((entry) => [entry.username, entry.outcome]))).toEqual({
      erin: 'STARTED',
      frank: 'FAILED',
      grace: 'STARTED',
    });
    expect(logs.find((entry) => entry.username === 'frank')).toMatchObject({
      level: 'error',
      errorName: 'ThrottlingException',
    });
  });

  it('skips MODIFY and REMOVE records and records without a username', async () => {
    const records = [
      streamRecord('MODIFY', { username: 'heidi', createdAt: '2026-11-27T10:00:00.000Z' }),
      streamRecord('REMOVE'),
      streamRecord('INSERT', { createdAt: '2026-11-27T10:00:00.000Z' }),
      streamRecord('INSERT', { username: '' }),
      streamRecord('INSERT'),
    ];

    const response = await handler(batch(...records));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(startedInputs()).toEqual([]);
    expect(logs.map((entry) => entry.outcome)).toEqual(Array(5).fill('SKIPPED'));
  });

  it('answers an empty batch with no failures', async () => {
    await expect(handler(batch())).resolves.toEqual({ batchItemFailures: [] });
  });
});

describe('executionNameFor', () => {
  it.each([
    ['alice', 'alice', /^alice-[0-9a-f]{16}$/],
    ['a.b', 'a.b', /^a_b-[0-9a-f]{16}$/],
    ['only unsafe characters', '...', /^___-[0-9a-f]{16}$/],
    ['an empty username', '', /^user-[0-9a-f]{16}$/],
    ['a non-Latin username', '李小龍', /^___-[0-9a-f]{16}$/],
    ['a 200-character username', 'x'.repeat(200), /^x{40}-[0-9a-f]{16}$/],
  ])('makes a name of 1-80 safe characters for %s', (_label, username, pattern) => {
    const name = executionNameFor(username, '2026-11-27T10:00:00.000Z');

    expect(name).toMatch(pattern);
    expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
  });

  it('keeps apart usernames that sanitise alike', () => {
    expect(executionNameFor('a.b', 't')).not.toBe(executionNameFor('a_b', 't'));
  });
});
