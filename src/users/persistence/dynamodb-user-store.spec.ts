import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { testConfig, TestTables } from '../../../test/support/test-app';
import {
  AccountActivationService,
  ActivationStatus,
  EmailTakenError,
  hashActivationToken,
  mintActivationToken,
  SendActivationMailService,
  StoreBusyError,
  UsernameTakenError,
  type NewUserRecord,
} from '../../activation';
import { activateDirectly } from '../../activation/testing/activate-directly';
import { FixedClock } from '../../activation/testing/fixed-clock';
import { FakePasswordHasher } from '../../activation/testing/fake-password-hasher';
import { activationTokenIn, RecordingMailer } from '../../activation/testing/recording-mailer';
import { describePasswordStoreContract } from '../../activation/testing/password-store.contract';
import { describeUserStoreContract } from '../../activation/testing/user-store.contract';
import { CorruptUserItemError, DynamoDbUserStore } from './dynamodb-user-store';
import { sessionsMarkerKey } from './user-tables';

const NOW = new Date('2026-03-01T09:00:00.000Z');

const TABLES = { users: 'User', userEmails: 'UserEmail' };

const alice: NewUserRecord = {
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
      const now = Date.parse(alice.createdAt) / 1000;

      await store.create(alice);

      const calls = dynamodb.commandCalls(TransactWriteCommand);
      expect(calls).toHaveLength(1);
      expect(calls[0]!.args[0].input.TransactItems).toEqual([
        {
          Put: {
            TableName: 'User',
            Item: alice,
            // Free, or a pending account past its expiry.
            ConditionExpression:
              'attribute_not_exists(#key) OR (activationStatus <> :done AND expiresAt <= :now)',
            ExpressionAttributeNames: { '#key': 'username' },
            ExpressionAttributeValues: { ':done': 'DONE', ':now': now },
          },
        },
        {
          Put: {
            TableName: 'UserEmail',
            Item: { email: 'alice@example.org', username: 'alice' },
            ConditionExpression:
              'attribute_not_exists(#key) OR expiresAt <= :now OR username = :self',
            ExpressionAttributeNames: { '#key': 'email' },
            ExpressionAttributeValues: { ':now': now, ':self': 'alice' },
          },
        },
      ]);
    });

    it('keys the claim by the delivery address and checks the old keys in the same transaction', async () => {
      dynamodb.on(TransactWriteCommand).resolves({});

      await store.create({ ...alice, email: 'Alice@\u{1D41B}\u00fccher.example' });

      const items = dynamodb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems;
      expect(items?.slice(1)).toEqual([
        {
          Put: {
            TableName: 'UserEmail',
            Item: { email: 'alice@xn--bcher-kva.example', username: 'alice' },
            ConditionExpression:
              'attribute_not_exists(#key) OR expiresAt <= :now OR username = :self',
            ExpressionAttributeNames: { '#key': 'email' },
            ExpressionAttributeValues: {
              ':now': Date.parse(alice.createdAt) / 1000,
              ':self': 'alice',
            },
          },
        },
        ...['alice@\u{1D41B}\u00fccher.example', 'alice@b\u00fccher.example'].map((key) => ({
          ConditionCheck: {
            TableName: 'UserEmail',
            Key: { email: key },
            ConditionExpression: 'attribute_not_exists(#key)',
            ExpressionAttributeNames: { '#key': 'email' },
          },
        })),
      ]);
    });

    it.each([
      [['None', 'None', 'ConditionalCheckFailed']],
      [['None', 'TransactionConflict', 'None', 'ConditionalCheckFailed']],
    ])(
      'refuses with EmailTakenError, without retrying, when an old-key check fails: %j',
      async (codes) => {
        dynamodb.on(TransactWriteCommand).rejects(cancelled(...codes));

        await expect(
          store.create({ ...alice, email: 'Alice@\u{1D41B}\u00fccher.example' }),
        ).rejects.toBeInstanceOf(EmailTakenError);
        expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(1);
      },
    );

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
      // The username's holder is no expired pending account: it stays.
      dynamodb
        .on(DeleteCommand)
        .rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));

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

    it('keeps the attributes it does not know apart, as they are, for every write to keep', async () => {
      dynamodb.on(GetCommand).resolves({ Item: { ...alice, legacyFlag: true, balance: 100 } });

      await expect(store.findByUsername('alice')).resolves.toEqual({
        ...alice,
        otherAttributes: { legacyFlag: true, balance: 100 },
      });
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
      [
        'no createdAt (a legacy item) and no credential, neither hash nor plaintext',
        { ...alice, createdAt: undefined, passwordHash: undefined },
      ],
      [
        'no createdAt (a legacy item) and a password that is no string',
        { username: 'alice', password: 1234 },
      ],
      [
        'no createdAt (a legacy item) and an unknown activationStatus',
        { username: 'alice', password: 'x', activationStatus: 'ACTIVE' },
      ],
      [
        'a plaintext password on an item of its own (with createdAt)',
        { ...alice, passwordHash: undefined, password: 'x' },
      ],
    ])('refuses a stored item with %s with CorruptUserItemError', async (_case, item) => {
      dynamodb.on(GetCommand).resolves({ Item: item });

      const finding = store.findByUsername('alice');

      await expect(finding).rejects.toBeInstanceOf(CorruptUserItemError);
      await expect(finding).rejects.toMatchObject({ username: 'alice' });
    });

    it('with onUnreadableItem, answers no account for such an item, after telling it', async () => {
      const told: CorruptUserItemError[] = [];
      const tolerant = new DynamoDbUserStore(documentClient, TABLES, {
        onUnreadableItem: (error) => told.push(error),
      });
      dynamodb.on(GetCommand).resolves({ Item: { ...alice, activationStatus: 'ACTIVE' } });

      await expect(tolerant.findByUsername('alice')).resolves.toBeUndefined();
      expect(told.map((error) => error.username)).toEqual(['alice']);
    });
  });

  describe('errors other than a failed condition', () => {
    const throttled = new ProvisionedThroughputExceededException({
      message: 'The level of configured provisioned throughput for the table was exceeded.',
      $metadata: {},
    });
    const claim = {
      claimId: 'holder',
      tokenHash: 'a'.repeat(64),
      tokenExpiresAt: '2026-03-01T10:00:00.000Z',
      leaseExpiresAt: '2026-03-01T09:01:00.000Z',
      now: NOW.toISOString(),
    };

    it.each<[string, () => Promise<unknown>]>([
      ['claimActivationMail', () => store.claimActivationMail('alice', claim)],
      ['releaseActivationMailClaim', () => store.releaseActivationMailClaim('alice', 'holder')],
      ['markMailSent', () => store.markMailSent('alice', 'holder', NOW.toISOString())],
      ['activate', () => store.activate(alice, 'a'.repeat(64), NOW.toISOString())],
    ])('%s throws a throughput error of the update unchanged', async (_method, call) => {
      dynamodb.on(UpdateCommand).rejects(throttled);

      await expect(call()).rejects.toBe(throttled);
      expect(dynamodb.commandCalls(UpdateCommand)).toHaveLength(1);
      expect(dynamodb.commandCalls(GetCommand)).toHaveLength(0);
    });

    it('findByUsername throws a throughput error of the read unchanged', async () => {
      dynamodb.on(GetCommand).rejects(throttled);

      await expect(store.findByUsername('alice')).rejects.toBe(throttled);
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

  it('round-trips every optional field of a user record', async () => {
    const full: NewUserRecord = {
      ...alice,
      username: 'full-record',
      email: 'full-record@example.org',
      name: 'Zoë <b>&</b> 李小龍',
      activationStatus: ActivationStatus.MAIL_SENT,
      activationTokenHash: hashActivationToken('some-token'),
      activationTokenExpiresAt: '2026-03-02T09:00:00.000Z',
      mailClaimId: '0b9d1f5e-3c1a-4b7e-9a53-4c7d2f6c1e11',
      mailClaimExpiresAt: '2026-03-01T09:05:00.000Z',
      activationMailSentAt: '2026-03-01T09:00:01.000Z',
      activatedAt: '2026-03-01T09:30:00.000Z',
    };
    await tables.users.create(full);

    await expect(tables.users.findByUsername('full-record')).resolves.toEqual(full);
  });

  const hasAnyItem = async (username: string) => {
    const { Item } = await tables.documentClient.send(
      new GetCommand({
        TableName: tables.config.dynamodb.tables.users,
        Key: { username },
        ConsistentRead: true,
      }),
    );
    return Item !== undefined;
  };

  describeUserStoreContract(() => ({
    store: tables.users,
    hasAnyItem,
    putLegacyEmailClaim: async (key, username) => {
      await tables.documentClient.send(
        new PutCommand({
          TableName: tables.config.dynamodb.tables.userEmails,
          Item: { email: key, username },
        }),
      );
    },
    putLegacyUser: async (user) => {
      await tables.documentClient.send(
        new PutCommand({ TableName: tables.config.dynamodb.tables.users, Item: { ...user } }),
      );
    },
  }));

  // The store's tables include the sessions table (testConfig names it), where a password
  // change writes the account's "every session ended" marker.
  describePasswordStoreContract(() => ({
    store: tables.users,
    hasAnyItem,
    sessionsEndedAt: async (username) => {
      const { Item } = await tables.documentClient.send(
        new GetCommand({
          TableName: tables.config.dynamodb.tables.sessions,
          Key: sessionsMarkerKey(username),
          ConsistentRead: true,
        }),
      );
      return Item === undefined ? undefined : (Item.endedAt as number);
    },
  }));

  describe('the use cases over DynamoDB Local', () => {
    const BASE = 'https://cards.example/activate';

    function sendService(mailer: RecordingMailer, clock: FixedClock): SendActivationMailService {
      return new SendActivationMailService(tables.users, mailer, clock, {
        tokenTtlSeconds: 3600,
        passwordResetTokenTtlSeconds: 3600,
        claimLeaseSeconds: 60,
        allowedActivationUrlBases: [BASE],
      });
    }

    it('ten concurrent sends mail once; the others are told it is in progress, and the winner’s claim records MAIL_SENT', async () => {
      await tables.users.create({ ...alice, username: 'racer', email: 'racer@example.org' });
      const mailer = new RecordingMailer();
      const service = sendService(mailer, new FixedClock(NOW));

      const results = await Promise.allSettled(
        Array.from({ length: 10 }, () => service.send('racer')),
      );

      expect(mailer.attempts).toHaveLength(1);
      const outcomes = results.map((result) =>
        result.status === 'fulfilled' ? result.value : (result.reason as Error).name,
      );
      const sent = outcomes.filter((outcome) => typeof outcome === 'object' && outcome.sent);
      expect(sent).toEqual([
        { sent: true, claimId: expect.any(String), sentAt: NOW.toISOString(), notice: false },
      ]);
      expect(
        outcomes.filter((outcome) => outcome === 'ActivationMailInProgressError'),
      ).toHaveLength(9);
      const winner = sent[0] as { claimId: string; sentAt: string };
      await expect(service.recordMailSent('racer', winner.claimId, winner.sentAt)).resolves.toEqual(
        {
          recorded: true,
        },
      );
      await expect(tables.users.findByUsername('racer')).resolves.toMatchObject({
        activationStatus: ActivationStatus.MAIL_SENT,
      });
    });

    it('activates with the mailed token once, then answers ALREADY_ACTIVE', async () => {
      const hasher = new FakePasswordHasher();
      await tables.users.create({
        ...alice,
        username: 'clicker',
        email: 'clicker@example.org',
        passwordHash: await hasher.hash('the password'),
      });
      const mailer = new RecordingMailer();
      const clock = new FixedClock(NOW);
      await sendService(mailer, clock).send('clicker');
      const token = activationTokenIn(mailer.sent[0]!);
      const activation = new AccountActivationService(tables.users, clock, hasher);
      const activate = (token: string) =>
        activation.activate('clicker', token, 'the password').then((done) => done.outcome);

      const outcomes = await Promise.all([activate(token), activate(token)]);

      expect(outcomes.sort()).toEqual(['ACTIVATED', 'ALREADY_ACTIVE']);
      await expect(activate(mintActivationToken().token)).rejects.toMatchObject({
        name: 'InvalidActivationLinkError',
      });
    });
  });
});
