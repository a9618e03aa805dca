import { createHash } from 'node:crypto';
import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { testConfig, TestTables } from '../../../test/support/test-app';
import { FixedClock } from '../../activation/testing/fixed-clock';
import { DynamoDbSessionStore } from './dynamodb-session-store';

const TTL_SECONDS = 3600;
// Years ahead of the real clock: DynamoDB Local's TTL sweeper deletes items whose expiry
// is in the real past, which would make "the item is still in the table" a race.
const START = new Date(Date.UTC(new Date().getUTCFullYear() + 10, 2, 1, 8, 30)).toISOString();
const BASE64URL_TOKEN = /^[A-Za-z0-9_-]{43}$/;

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

describe('DynamoDbSessionStore on DynamoDB Local', () => {
  let tables: TestTables;
  let tableName: string;
  let clock: FixedClock;
  let sessions: DynamoDbSessionStore;

  beforeAll(async () => {
    tables = await new TestTables(testConfig()).create();
    tableName = tables.config.dynamodb.tables.sessions;
  });

  afterAll(async () => {
    await tables.drop();
  });

  beforeEach(() => {
    clock = new FixedClock(START);
    sessions = new DynamoDbSessionStore(tables.documentClient, tableName, clock, TTL_SECONDS);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  const storedItem = async (key: string) =>
    (
      await tables.documentClient.send(
        new GetCommand({ TableName: tableName, Key: { sessionIdHash: key } }),
      )
    ).Item;

  describe('start', () => {
    it('hands out a 43-character base64url token (256 random bits)', async () => {
      const session = await sessions.start('alice');

      expect(session.token).toMatch(BASE64URL_TOKEN);
      expect(Buffer.from(session.token, 'base64url')).toHaveLength(32);
    });

    it('hands out a different token for every session', async () => {
      const first = await sessions.start('alice');
      const second = await sessions.start('alice');

      expect(second.token).not.toBe(first.token);
    });

    it('returns the username and an expiry one TTL after now', async () => {
      const session = await sessions.start('alice');

      expect(session.username).toBe('alice');
      expect(session.expiresAt).toEqual(new Date(Date.parse(START) + TTL_SECONDS * 1000));
    });

    it('stores the session under the SHA-256 hex of the token, with the expiry in epoch seconds', async () => {
      const { token } = await sessions.start('alice');

      const item = await storedItem(sha256Hex(token));

      expect(item).toEqual({
        sessionIdHash: sha256Hex(token),
        username: 'alice',
        createdAt: START,
        expiresAt: Date.parse(START) / 1000 + TTL_SECONDS,
      });
    });

    it('stores no trace of the token itself', async () => {
      const { token } = await sessions.start('token-owner');

      const { Items } = await tables.documentClient.send(new ScanCommand({ TableName: tableName }));
      const mine = (Items ?? []).filter((item) => item.username === 'token-owner');
      expect(mine).toHaveLength(1);
      expect(JSON.stringify(mine)).not.toContain(token);
      await expect(storedItem(token)).resolves.toBeUndefined();
    });
  });

  describe('find', () => {
    it('returns the username and expiry of a live session', async () => {
      const { token, expiresAt } = await sessions.start('alice');

      await expect(sessions.find(token)).resolves.toEqual({ username: 'alice', expiresAt });
    });

    it('still finds a session one second before it expires', async () => {
      const { token } = await sessions.start('alice');

      clock.advanceSeconds(TTL_SECONDS - 1);

      await expect(sessions.find(token)).resolves.toMatchObject({ username: 'alice' });
    });

    it.each([
      ['at the moment it expires', TTL_SECONDS],
      ['past its TTL', TTL_SECONDS + 1],
      ['a day after its TTL', TTL_SECONDS + 24 * 3600],
    ])('finds nothing %s, though the item is still in the table', async (_case, seconds) => {
      const { token } = await sessions.start('alice');

      clock.advanceSeconds(seconds);

      await expect(sessions.find(token)).resolves.toBeUndefined();
      await expect(storedItem(sha256Hex(token))).resolves.toBeDefined();
    });

    it('finds nothing for a well-formed token it never handed out', async () => {
      await expect(sessions.find('A'.repeat(43))).resolves.toBeUndefined();
    });

    it('finds nothing when the stored item is not a session', async () => {
      const token = 'B'.repeat(43);
      await tables.documentClient.send(
        new PutCommand({
          TableName: tableName,
          Item: { sessionIdHash: sha256Hex(token), username: 'alice' },
        }),
      );

      await expect(sessions.find(token)).resolves.toBeUndefined();
    });

    it.each([
      ['the empty string', ''],
      ['a short token', 'abc'],
      ['42 characters', 'a'.repeat(42)],
      ['44 characters', 'a'.repeat(44)],
      ['standard base64 characters', `${'a'.repeat(41)}+/`],
      ['base64 padding', `${'a'.repeat(42)}=`],
      ['a space', `${'a'.repeat(42)} `],
      ['a huge value', 'a'.repeat(100_000)],
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
      const { token } = await sessions.start('alice');

      await sessions.end(token);

      await expect(sessions.find(token)).resolves.toBeUndefined();
      await expect(storedItem(sha256Hex(token))).resolves.toBeUndefined();
    });

    it('ends only the one session', async () => {
      const ended = await sessions.start('alice');
      const other = await sessions.start('alice');

      await sessions.end(ended.token);

      await expect(sessions.find(other.token)).resolves.toMatchObject({ username: 'alice' });
    });

    it('accepts ending a session twice', async () => {
      const { token } = await sessions.start('alice');
      await sessions.end(token);

      await expect(sessions.end(token)).resolves.toBeUndefined();
    });

    it.each(['', 'abc', 'a'.repeat(44)])(
      'ignores the malformed token %j without asking DynamoDB',
      async (token) => {
        const send = jest.spyOn(tables.documentClient, 'send');

        await sessions.end(token);

        expect(send).not.toHaveBeenCalled();
      },
    );
  });
});
