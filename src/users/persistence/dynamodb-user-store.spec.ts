import {
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { testConfig, TestTables } from '../../../test/support/test-app';
import {
  ActivationStatus,
  EmailTakenError,
  hashActivationToken,
  StoreBusyError,
  UsernameTakenError,
  type UserRecord,
} from '../../activation';
import { activateDirectly } from '../../activation/testing/activate-directly';
import { CorruptUserItemError, DynamoDbUserStore } from './dynamodb-user-store';

const NOW = new Date('2026-03-01T09:00:00.000Z');

const TABLES = { users: 'User', userEmails: 'UserEmail' };

const alice: UserRecord = {
  username: 'alice',
  email: 'Alice@Example.org',
  name: 'Alice Liddell',
  passwordHash:
    '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g',
  activationStatus: ActivationStatus.NONE,
  activationUrlBase: 'https://cards.example/activate',
  createdAt: '2026-03-01T08:30:00.000Z',
};

/** What DynamoDB throws when a transaction is cancelled, one reason per item (user, email). */
function cancelled(...codes: string[]): TransactionCanceledException {
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
}

describe('DynamoDbUserStore with a mocked DynamoDB', () => {
  const documentClient = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'unit', secretAccessKey: 'unit' },
    }),
  );
  const dynamodb = mockClient(documentClient);
  const store = new DynamoDbUserStore(documentClient, TABLES);

  beforeEach(() => {
    dynamodb.reset();
    // No backoff between attempts: the retry count is what is under test, not the waiting.
    jest.spyOn(Math, 'random').mockReturnValue(0);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  afterAll(() => {
    dynamodb.restore();
  });

  describe('create', () => {
    it('writes the user and the claim on its email key in one conditional transaction', async () => {
      dynamodb.on(TransactWriteCommand).resolves({});

      await store.create(alice);

      const calls = dynamodb.commandCalls(TransactWriteCommand);
      expect(calls).toHaveLength(1);
      expect(calls[0]!.args[0].input.TransactItems).toEqual([
        {
          Put: {
            TableName: 'User',
            Item: alice,
            ConditionExpression: 'attribute_not_exists(#key)',
            ExpressionAttributeNames: { '#key': 'username' },
          },
        },
        {
          Put: {
            TableName: 'UserEmail',
            Item: { email: 'alice@example.org', username: 'alice' },
            ConditionExpression: 'attribute_not_exists(#key)',
            ExpressionAttributeNames: { '#key': 'email' },
          },
        },
      ]);
    });

    it('retries a transaction conflict and gives up with StoreBusyError after 6 attempts', async () => {
      const conflict = cancelled('None', 'TransactionConflict');
      dynamodb.on(TransactWriteCommand).rejects(conflict);

      const creating = store.create(alice);

      await expect(creating).rejects.toBeInstanceOf(StoreBusyError);
      await expect(creating).rejects.toMatchObject({ code: 'STORE_BUSY', cause: conflict });
      expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(6);
    });

    it('waits between attempts, longer each time (5 waits for 6 attempts)', async () => {
      jest.spyOn(Math, 'random').mockReturnValue(0.5);
      const delays: number[] = [];
      const realSetTimeout = global.setTimeout;
      jest.spyOn(global, 'setTimeout').mockImplementation(((callback: () => void, ms?: number) => {
        delays.push(ms ?? 0);
        return realSetTimeout(callback, 0);
      }) as typeof setTimeout);
      dynamodb.on(TransactWriteCommand).rejects(cancelled('TransactionConflict', 'None'));

      await expect(store.create(alice)).rejects.toBeInstanceOf(StoreBusyError);

      expect(delays).toHaveLength(5);
      expect(delays.every((delay, i) => i === 0 || delay > delays[i - 1]!)).toBe(true);
    });

    it('succeeds when a conflict clears on the next attempt', async () => {
      dynamodb
        .on(TransactWriteCommand)
        .rejectsOnce(cancelled('None', 'TransactionConflict'))
        .resolves({});

      await expect(store.create(alice)).resolves.toBeUndefined();
      expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(2);
    });

    it.each([
      [['ConditionalCheckFailed', 'None']],
      [['ConditionalCheckFailed', 'ConditionalCheckFailed']],
      [['ConditionalCheckFailed', 'TransactionConflict']],
    ])('refuses with UsernameTakenError, without retrying, for reasons %j', async (codes) => {
      dynamodb.on(TransactWriteCommand).rejects(cancelled(...codes));

      const creating = store.create(alice);

      await expect(creating).rejects.toBeInstanceOf(UsernameTakenError);
      await expect(creating).rejects.toMatchObject({ username: 'alice' });
      expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(1);
    });

    it.each([
      [['None', 'ConditionalCheckFailed']],
      [['TransactionConflict', 'ConditionalCheckFailed']],
    ])('refuses with EmailTakenError, without retrying, for reasons %j', async (codes) => {
      dynamodb.on(TransactWriteCommand).rejects(cancelled(...codes));

      await expect(store.create(alice)).rejects.toBeInstanceOf(EmailTakenError);
      expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(1);
    });

    it.each([
      ['a plain error', new Error('socket hang up')],
      [
        'a throughput error',
        new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }),
      ],
    ])('lets %s through unchanged, without retrying', async (_case, error) => {
      dynamodb.on(TransactWriteCommand).rejects(error);

      await expect(store.create(alice)).rejects.toBe(error);
      expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(1);
    });
  });

  describe('findByUsername', () => {
    it('reads the user by key with a consistent read', async () => {
      dynamodb.on(GetCommand).resolves({ Item: { ...alice } });

      const user = await store.findByUsername('alice');

      expect(user).toEqual(alice);
      expect(dynamodb.commandCalls(GetCommand)[0]!.args[0].input).toEqual({
        TableName: 'User',
        Key: { username: 'alice' },
        ConsistentRead: true,
      });
    });

    it('returns only the fields of a user record, not other attributes of the item', async () => {
      dynamodb.on(GetCommand).resolves({ Item: { ...alice, legacyFlag: true } });

      await expect(store.findByUsername('alice')).resolves.toEqual(alice);
    });

    it('answers undefined when there is no item', async () => {
      dynamodb.on(GetCommand).resolves({});

      await expect(store.findByUsername('nobody')).resolves.toBeUndefined();
    });

    it.each<[string, Record<string, unknown>]>([
      ['an unknown activationStatus', { ...alice, activationStatus: 'ACTIVE' }],
      ['a lower-case activationStatus', { ...alice, activationStatus: 'done' }],
      ['no activationStatus', { ...alice, activationStatus: undefined }],
      ['no passwordHash', { ...alice, passwordHash: undefined }],
      ['an empty passwordHash', { ...alice, passwordHash: '' }],
      ['a numeric email', { ...alice, email: 42 }],
      ['no name', { ...alice, name: undefined }],
      ['no activationUrlBase', { ...alice, activationUrlBase: undefined }],
      ['no createdAt', { ...alice, createdAt: undefined }],
    ])('refuses a stored item with %s with CorruptUserItemError', async (_case, item) => {
      dynamodb.on(GetCommand).resolves({ Item: item });

      const finding = store.findByUsername('alice');

      await expect(finding).rejects.toBeInstanceOf(CorruptUserItemError);
      await expect(finding).rejects.toMatchObject({ username: 'alice' });
    });
  });
});

describe('DynamoDbUserStore on DynamoDB Local', () => {
  let tables: TestTables;

  beforeAll(async () => {
    tables = await new TestTables(testConfig()).create();
  });

  afterAll(async () => {
    await tables.drop();
  });

  it('stores a user, finds it and activates it', async () => {
    await tables.users.create({
      ...alice,
      username: 'round-trip',
      email: 'round-trip@example.org',
    });

    const token = await activateDirectly(tables.users, 'round-trip', NOW);

    await expect(tables.users.findByUsername('round-trip')).resolves.toEqual({
      ...alice,
      username: 'round-trip',
      email: 'round-trip@example.org',
      activationStatus: ActivationStatus.DONE,
      activationTokenHash: hashActivationToken(token),
      activationTokenExpiresAt: '2026-03-01T10:00:00.000Z',
      activatedAt: NOW.toISOString(),
    });
  });

  it('gets the cancellation reasons in the order it reads them: user first, then email', async () => {
    await tables.users.create({ ...alice, username: 'first', email: 'First@Example.org' });

    await expect(
      tables.users.create({ ...alice, username: 'first', email: 'other@example.org' }),
    ).rejects.toBeInstanceOf(UsernameTakenError);
    await expect(
      tables.users.create({ ...alice, username: 'second', email: 'FIRST@example.org' }),
    ).rejects.toBeInstanceOf(EmailTakenError);
    await expect(tables.users.findByUsername('second')).resolves.toBeUndefined();
  });
});
