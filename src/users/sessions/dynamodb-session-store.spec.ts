import { createHash } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { testConfig, TestTables } from '../../../test/support/test-app';
import { ActivationStatus } from '../../activation';
import { FixedClock } from '../../activation/testing/fixed-clock';
import { DynamoDbSessionStore } from './dynamodb-session-store';
import type { VerifiedAccount } from './session-store';

const TTL_SECONDS = 3600;
// Years ahead of the real clock: DynamoDB Local's TTL sweeper deletes items whose expiry
// is in the real past, which would make "the item is still in the table" a race.
const START = new Date(Date.UTC(new Date().getUTCFullYear() + 10, 2, 1, 8, 30)).toISOString();
const BASE64URL_SECRET = /^[A-Za-z0-9_-]{43}$/;
const PASSWORD_HASH =
  '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g';
const OTHER_PASSWORD_HASH =
  '$argon2id$v=19$m=19456,t=2,p=1$b3RoZXJzYWx0b3RoZXJzYQ$b3RoZXJoYXNob3RoZXJoYXNob3RoZXJoYXNob3RoZXI';
const ENDED_MARKER = '#ended';

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

/** The secret part of a cookie value `<username>.<secret>` (the secret has no `.`). */
const secretOf = (token: string) => token.slice(token.lastIndexOf('.') + 1);

describe('DynamoDbSessionStore on DynamoDB Local', () => {
  let tables: TestTables;
  let sessionTable: string;
  let userTable: string;
  let clock: FixedClock;
  let sessions: DynamoDbSessionStore;
  let accounts = 0;

  beforeAll(async () => {
    tables = await new TestTables(testConfig()).create();
    sessionTable = tables.config.dynamodb.tables.sessions;
    userTable = tables.config.dynamodb.tables.users;
  });

  afterAll(async () => {
    await tables.drop();
  });

  beforeEach(() => {
    clock = new FixedClock(START);
    sessions = new DynamoDbSessionStore(
      tables.documentClient,
      { sessions: sessionTable, users: userTable },
      clock,
      TTL_SECONDS,
    );
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  /** A fresh username: the tables are shared by the file's tests. */
  const freshUsername = (prefix = 'user') => `${prefix}-${++accounts}`;

  /** Seeds the User item, raw; an active account with PASSWORD_HASH unless told otherwise. */
  async function seedUser(
    username: string,
    overrides: Record<string, unknown> = {},
  ): Promise<VerifiedAccount> {
    await tables.documentClient.send(
      new PutCommand({
        TableName: userTable,
        Item: {
          username,
          passwordHash: PASSWORD_HASH,
          activationStatus: ActivationStatus.DONE,
          email: `${username}@example.org`,
          name: `The ${username}`,
          activationUrlBase: 'https://cards.example/activate',
          createdAt: '2026-03-01T08:00:00.000Z',
          ...overrides,
        },
      }),
    );
    return { username, passwordHash: PASSWORD_HASH };
  }

  const activeAccount = (prefix?: string) => seedUser(freshUsername(prefix));

  /** Starts a session that must start. */
  async function startSession(account: VerifiedAccount) {
    const session = await sessions.start(account);
    if (!session) throw new Error(`no session started for ${account.username}`);
    return session;
  }

  const storedItem = async (username: string, sessionIdHash: string) =>
    (
      await tables.documentClient.send(
        new GetCommand({
          TableName: sessionTable,
          Key: { username, sessionIdHash },
          ConsistentRead: true,
        }),
      )
    ).Item;

  /** Every item of the account's partition: its sessions and its marker. */
  const itemsOf = async (username: string) =>
    (
      await tables.documentClient.send(
        new QueryCommand({
          TableName: sessionTable,
          KeyConditionExpression: 'username = :username',
          ExpressionAttributeValues: { ':username': username },
          ConsistentRead: true,
        }),
      )
    ).Items ?? [];

  describe('start', () => {
    it('hands out `<username>.<secret>`, the secret 43 base64url characters (256 random bits)', async () => {
      const account = await activeAccount('alice');

      const { token } = await startSession(account);

      expect(token.startsWith(`${account.username}.`)).toBe(true);
      const secret = token.slice(account.username.length + 1);
      expect(secret).toMatch(BASE64URL_SECRET);
      expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    });

    it('hands out a different token for every session', async () => {
      const account = await activeAccount('alice');

      const first = await startSession(account);
      const second = await startSession(account);

      expect(second.token).not.toBe(first.token);
      expect(secretOf(second.token)).not.toBe(secretOf(first.token));
    });

    it('returns the username and an expiry one TTL after now', async () => {
      const account = await activeAccount('alice');

      const session = await startSession(account);

      expect(session.username).toBe(account.username);
      expect(session.expiresAt).toEqual(new Date(Date.parse(START) + TTL_SECONDS * 1000));
    });

    it('stores the session under the account and the SHA-256 hex of the secret, with its start and its expiry in epoch seconds', async () => {
      const account = await activeAccount('alice');
      const { token } = await startSession(account);

      const item = await storedItem(account.username, sha256Hex(secretOf(token)));

      expect(item).toEqual({
        username: account.username,
        sessionIdHash: sha256Hex(secretOf(token)),
        createdAt: START,
        generation: 0,
        expiresAt: Date.parse(START) / 1000 + TTL_SECONDS,
      });
    });

    it('stores no trace of the secret itself', async () => {
      const account = await activeAccount('token-owner');
      const { token } = await startSession(account);
      const secret = secretOf(token);

      const mine = await itemsOf(account.username);

      expect(mine).toHaveLength(1);
      expect(JSON.stringify(mine)).not.toContain(secret);
      await expect(storedItem(account.username, secret)).resolves.toBeUndefined();
    });

    it('refuses (undefined, nothing stored) when the password hash it verified is no longer the account’s', async () => {
      const username = freshUsername('changed-password');
      await seedUser(username, { passwordHash: OTHER_PASSWORD_HASH });

      const session = await sessions.start({ username, passwordHash: PASSWORD_HASH });

      expect(session).toBeUndefined();
      await expect(itemsOf(username)).resolves.toEqual([]);
    });

    it.each([ActivationStatus.NONE, ActivationStatus.MAIL_SENT])(
      'refuses (undefined, nothing stored) when the account is %s, not DONE',
      async (activationStatus) => {
        const username = freshUsername('inactive');
        const account = await seedUser(username, { activationStatus });

        const session = await sessions.start(account);

        expect(session).toBeUndefined();
        await expect(itemsOf(username)).resolves.toEqual([]);
      },
    );

    it('refuses (undefined, nothing stored) when there is no such user', async () => {
      const username = freshUsername('nobody');

      const session = await sessions.start({ username, passwordHash: PASSWORD_HASH });

      expect(session).toBeUndefined();
      await expect(itemsOf(username)).resolves.toEqual([]);
    });
  });

  describe('find', () => {
    it('returns the token, username and expiry of a live session', async () => {
      const account = await activeAccount('alice');
      const { token, expiresAt } = await startSession(account);

      await expect(sessions.find(token)).resolves.toEqual({
        token,
        username: account.username,
        expiresAt,
      });
    });

    it('still finds a session one second before it expires', async () => {
      const account = await activeAccount('alice');
      const { token } = await startSession(account);

      clock.advanceSeconds(TTL_SECONDS - 1);

      await expect(sessions.find(token)).resolves.toMatchObject({ username: account.username });
    });

    it.each([
      ['at the moment it expires', TTL_SECONDS],
      ['past its TTL', TTL_SECONDS + 1],
      ['a day after its TTL', TTL_SECONDS + 24 * 3600],
    ])('finds nothing %s, though the item is still in the table', async (_case, seconds) => {
      const account = await activeAccount('alice');
      const { token } = await startSession(account);

      clock.advanceSeconds(seconds);

      await expect(sessions.find(token)).resolves.toBeUndefined();
      await expect(storedItem(account.username, sha256Hex(secretOf(token)))).resolves.toBeDefined();
    });

    describe('for a session started off a whole second', () => {
      const offSecond = new Date(Date.parse(START) + 500);

      it('reports the expiry start handed out', async () => {
        const account = await activeAccount('alice');
        clock.set(offSecond);
        const session = await startSession(account);

        await expect(sessions.find(session.token)).resolves.toEqual(session);
      });

      it('finds nothing once the expiry start handed out is reached', async () => {
        const account = await activeAccount('alice');
        clock.set(offSecond);
        const session = await startSession(account);

        clock.set(session.expiresAt);

        await expect(sessions.find(session.token)).resolves.toBeUndefined();
      });
    });

    it('finds nothing for a well-formed cookie value it never handed out', async () => {
      const account = await activeAccount('alice');
      await startSession(account);

      await expect(sessions.find(`${account.username}.${'A'.repeat(43)}`)).resolves.toBeUndefined();
    });

    it('finds nothing for the right secret under another username', async () => {
      const alice = await activeAccount('alice');
      const bob = await activeAccount('bob');
      const { token } = await startSession(alice);
      await startSession(bob);

      await expect(sessions.find(`${bob.username}.${secretOf(token)}`)).resolves.toBeUndefined();
      await expect(sessions.find(token)).resolves.toMatchObject({ username: alice.username });
    });

    it.each([
      ['no expiry and no generation', {}],
      ['no generation', { expiresAt: Date.parse(START) / 1000 + TTL_SECONDS }],
      ['no expiry', { generation: 0 }],
      [
        'an expiry that is not a number',
        { generation: 0, expiresAt: String(Date.parse(START) / 1000 + 60) },
      ],
      [
        'a generation that is not a number',
        { generation: '0', expiresAt: Date.parse(START) / 1000 + TTL_SECONDS },
      ],
    ])('finds nothing when the stored item has %s', async (_case, attributes) => {
      const { username } = await activeAccount('alice');
      const secret = 'B'.repeat(43);
      await tables.documentClient.send(
        new PutCommand({
          TableName: sessionTable,
          Item: { username, sessionIdHash: sha256Hex(secret), ...attributes },
        }),
      );

      await expect(sessions.find(`${username}.${secret}`)).resolves.toBeUndefined();
    });

    const secret43 = 'a'.repeat(43);
    it.each([
      ['the empty string', ''],
      ['a short value', 'abc'],
      ['a secret without a username', secret43],
      ['an empty username', `.${secret43}`],
      ['a username without a secret', 'alice.'],
      ['a 42-character secret', `alice.${'a'.repeat(42)}`],
      ['a 44-character secret', `alice.${'a'.repeat(44)}`],
      ['standard base64 characters', `alice.${'a'.repeat(41)}+/`],
      ['base64 padding', `alice.${'a'.repeat(42)}=`],
      ['a space', `alice.${'a'.repeat(42)} `],
      ['a trailing newline', `alice.${secret43}\n`],
      ['a username over 128 characters', `${'u'.repeat(129)}.${secret43}`],
      ['a huge value', 'a'.repeat(100_000)],
      ['a huge username', `${'u'.repeat(100_000)}.${secret43}`],
      ['a path', '../../../../etc/passwd'],
    ])('answers undefined for %s without asking DynamoDB', async (_case, token) => {
      const send = jest.spyOn(tables.documentClient, 'send');

      const session = await sessions.find(token);

      expect(session).toBeUndefined();
      expect(send).not.toHaveBeenCalled();
    });
  });

  describe('end', () => {
    it('ends the session: find no longer returns it and the item is gone', async () => {
      const account = await activeAccount('alice');
      const { token } = await startSession(account);

      await sessions.end(token);

      await expect(sessions.find(token)).resolves.toBeUndefined();
      await expect(
        storedItem(account.username, sha256Hex(secretOf(token))),
      ).resolves.toBeUndefined();
    });

    it('ends only the one session', async () => {
      const account = await activeAccount('alice');
      const ended = await startSession(account);
      const other = await startSession(account);

      await sessions.end(ended.token);

      await expect(sessions.find(other.token)).resolves.toMatchObject({
        username: account.username,
      });
    });

    it('does not end a session when given its secret under another username', async () => {
      const alice = await activeAccount('alice');
      const bob = await activeAccount('bob');
      const { token } = await startSession(alice);

      await sessions.end(`${bob.username}.${secretOf(token)}`);

      await expect(sessions.find(token)).resolves.toMatchObject({ username: alice.username });
    });

    it('accepts ending a session twice', async () => {
      const account = await activeAccount('alice');
      const { token } = await startSession(account);
      await sessions.end(token);

      await expect(sessions.end(token)).resolves.toBeUndefined();
    });

    it.each(['', 'abc', 'a'.repeat(43), `alice.${'a'.repeat(44)}`])(
      'ignores the malformed cookie value %j without asking DynamoDB',
      async (token) => {
        const send = jest.spyOn(tables.documentClient, 'send');

        await sessions.end(token);

        expect(send).not.toHaveBeenCalled();
      },
    );
  });

  describe('endAll', () => {
    it('ends every session of the account', async () => {
      const account = await activeAccount('alice');
      const started = [
        await startSession(account),
        await startSession(account),
        await startSession(account),
      ];

      await sessions.endAll(account.username);

      for (const { token } of started) {
        await expect(sessions.find(token)).resolves.toBeUndefined();
      }
    });

    it('deletes the sessions’ items and keeps only the marker, ended at now', async () => {
      const account = await activeAccount('alice');
      await startSession(account);
      await startSession(account);

      await sessions.endAll(account.username);

      await expect(itemsOf(account.username)).resolves.toEqual([
        {
          username: account.username,
          sessionIdHash: ENDED_MARKER,
          endedAt: Date.parse(START),
          generation: 1,
        },
      ]);
    });

    it('deletes more sessions than one BatchWriteItem takes (25)', async () => {
      const account = await activeAccount('busy');
      for (let i = 0; i < 30; i++) await startSession(account);
      await expect(itemsOf(account.username)).resolves.toHaveLength(30);

      await sessions.endAll(account.username);

      await expect(itemsOf(account.username)).resolves.toEqual([
        {
          username: account.username,
          sessionIdHash: ENDED_MARKER,
          endedAt: Date.parse(START),
          generation: 1,
        },
      ]);
    });

    it('leaves the sessions of another account live', async () => {
      const alice = await activeAccount('alice');
      const bob = await activeAccount('bob');
      await startSession(alice);
      const bobs = await startSession(bob);

      await sessions.endAll(alice.username);

      await expect(sessions.find(bobs.token)).resolves.toEqual(bobs);
      await expect(itemsOf(bob.username)).resolves.toHaveLength(1);
    });

    it('accepts an account without sessions, writing the marker', async () => {
      const account = await activeAccount('idle');

      await sessions.endAll(account.username);

      await expect(itemsOf(account.username)).resolves.toEqual([
        {
          username: account.username,
          sessionIdHash: ENDED_MARKER,
          endedAt: Date.parse(START),
          generation: 1,
        },
      ]);
    });

    it('lets a session started in the same millisecond, after it, live: no clock is compared', async () => {
      const account = await activeAccount('alice');
      const before = await startSession(account);
      await sessions.endAll(account.username);

      const after = await startSession(account);

      await expect(sessions.find(after.token)).resolves.toMatchObject({
        token: after.token,
        username: account.username,
      });
      await expect(sessions.find(before.token)).resolves.toBeUndefined();
    });

    it('ends a session of an earlier generation even when its start is later than the marker (clock skew)', async () => {
      const account = await activeAccount('alice');
      clock.advanceSeconds(3600);
      const { token } = await startSession(account);
      clock.set(new Date(START));
      await sessions.endAll(account.username);

      await expect(sessions.find(token)).resolves.toBeUndefined();
    });

    it('starts a sign-in whose generation moved on before its write in the new generation, not the ended one', async () => {
      const account = await activeAccount('alice');
      // endAll lands between the sign-in's read of the generation and its transaction.
      const send = tables.documentClient.send.bind(tables.documentClient);
      let ended = false;
      const spy = jest
        .spyOn(tables.documentClient, 'send')
        .mockImplementation(async (command: unknown) => {
          if (!ended && command instanceof TransactWriteCommand) {
            ended = true;
            await sessions.endAll(account.username);
          }
          return send(command as never);
        });

      const session = await startSession(account);
      spy.mockRestore();

      expect(ended).toBe(true);
      await expect(sessions.find(session.token)).resolves.toMatchObject({
        username: account.username,
      });
      await expect(
        storedItem(account.username, sha256Hex(secretOf(session.token))),
      ).resolves.toMatchObject({
        generation: 1,
      });
    });

    it('ends a session started before the marker even while its item is still in the table', async () => {
      const account = await activeAccount('alice');
      const { token } = await startSession(account);
      const item = await storedItem(account.username, sha256Hex(secretOf(token)));
      clock.set(new Date(Date.parse(START) + 1));
      await sessions.endAll(account.username);

      // As if the clean-up had failed: the item is back, unchanged.
      await tables.documentClient.send(new PutCommand({ TableName: sessionTable, Item: item }));

      await expect(storedItem(account.username, sha256Hex(secretOf(token)))).resolves.toBeDefined();
      await expect(sessions.find(token)).resolves.toBeUndefined();
    });

    it('ends, on a second call, the sessions started since the first', async () => {
      const account = await activeAccount('alice');
      await sessions.endAll(account.username);
      clock.advanceSeconds(60);
      const { token } = await startSession(account);
      await expect(sessions.find(token)).resolves.toMatchObject({ username: account.username });

      clock.advanceSeconds(60);
      await sessions.endAll(account.username);

      await expect(sessions.find(token)).resolves.toBeUndefined();
      await expect(itemsOf(account.username)).resolves.toEqual([
        {
          username: account.username,
          sessionIdHash: ENDED_MARKER,
          endedAt: Date.parse(START) + 120_000,
          generation: 2,
        },
      ]);
    });
  });
});
