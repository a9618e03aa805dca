import { createHash, randomBytes } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { ActivationStatus, type Clock, StoreBusyError } from '../../activation';
import type { TableNames } from '../../config/app-config';
import {
  SESSION_ACCOUNT_KEY,
  SESSION_KEY,
  SESSION_TTL_ATTRIBUTE,
  SESSIONS_ENDED,
  sessionsEndedItem,
  USER_KEY,
} from '../persistence/user-tables';
import { type NewSession, type Session, SessionStore, type VerifiedAccount } from './session-store';

const SECRET_BYTES = 32;
/**
 * The cookie value: `<username>.<secret>`, the secret base64url of 32 bytes (no `.` in
 * it). Anything else cannot be one of ours and is not looked up.
 */
const COOKIE_VALUE_PATTERN = /^(.{1,128})\.([A-Za-z0-9_-]{43})$/s;
/** BatchWriteItem's most requests per call. */
const BATCH_WRITE_LIMIT = 25;
const MAX_BATCH_ATTEMPTS = 5;

const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

function parseCookieValue(token: string): { username: string; secretHash: string } | undefined {
  const match = COOKIE_VALUE_PATTERN.exec(token);
  return match ? { username: match[1]!, secretHash: hashSecret(match[2]!) } : undefined;
}

type DeleteRequests = NonNullable<
  ConstructorParameters<typeof BatchWriteCommand>[0]['RequestItems']
>[string];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sessions in DynamoDB, under their account (see user-tables.ts). A sign-in's session is
 * written in one transaction with a check that the password it verified is still the
 * account's, so a sign-in racing a password change cannot outlive it. Ending all of an
 * account's sessions is one write (the marker), which `find` reads with the session in
 * one BatchGetItem; the session items themselves are then deleted as a clean-up.
 */
export class DynamoDbSessionStore extends SessionStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: Pick<TableNames, 'sessions' | 'users'>,
    private readonly clock: Clock,
    private readonly ttlSeconds: number,
  ) {
    super();
  }

  async start(account: VerifiedAccount): Promise<NewSession | undefined> {
    const secret = randomBytes(SECRET_BYTES).toString('base64url');
    const token = `${account.username}.${secret}`;
    const now = this.clock.now();
    // Whole seconds, as stored for TTL, so the cookie and `find` agree on the same instant.
    const expiresAtSeconds = Math.floor(now.getTime() / 1000) + this.ttlSeconds;
    const expiresAt = new Date(expiresAtSeconds * 1000);
    const write = new TransactWriteCommand({
      TransactItems: [
        {
          ConditionCheck: {
            TableName: this.tables.users,
            Key: { [USER_KEY]: account.username },
            ConditionExpression: 'passwordHash = :hash AND activationStatus = :done',
            ExpressionAttributeValues: {
              ':hash': account.passwordHash,
              ':done': ActivationStatus.DONE,
            },
          },
        },
        {
          Put: {
            TableName: this.tables.sessions,
            Item: {
              [SESSION_ACCOUNT_KEY]: account.username,
              [SESSION_KEY]: hashSecret(secret),
              createdAt: now.toISOString(),
              createdAtMs: now.getTime(),
              [SESSION_TTL_ATTRIBUTE]: expiresAtSeconds,
            },
          },
        },
      ],
    });
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(write);
        return { token, username: account.username, expiresAt };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = (error.CancellationReasons ?? []).map((reason) => reason.Code);
        if (reasons.includes('ConditionalCheckFailed')) return undefined;
        // TransactionConflict: a password change holds the user item right now.
        if (attempt >= MAX_BATCH_ATTEMPTS) throw new StoreBusyError({ cause: error });
        await sleep(Math.random() * 25 * 2 ** attempt);
      }
    }
  }

  async find(token: string): Promise<Session | undefined> {
    const parsed = parseCookieValue(token);
    if (!parsed) return undefined;
    const items = await this.getBoth(parsed.username, parsed.secretHash);
    const session = items.find((item) => item[SESSION_KEY] === parsed.secretHash);
    const ended = items.find((item) => item[SESSION_KEY] === SESSIONS_ENDED);
    const expiresAtSeconds = session?.[SESSION_TTL_ATTRIBUTE];
    const createdAtMs = session?.createdAtMs;
    if (typeof expiresAtSeconds !== 'number' || typeof createdAtMs !== 'number') return undefined;
    // TTL deletion lags by up to days: an expired item still in the table is not a session.
    const expiresAt = new Date(expiresAtSeconds * 1000);
    if (expiresAt <= this.clock.now()) return undefined;
    if (typeof ended?.endedAt === 'number' && createdAtMs < ended.endedAt) return undefined;
    return { token, username: parsed.username, expiresAt };
  }

  /** The session's item and the account's marker, in one strongly consistent read. */
  private async getBoth(username: string, secretHash: string): Promise<Record<string, unknown>[]> {
    let keys: Record<string, unknown>[] = [
      { [SESSION_ACCOUNT_KEY]: username, [SESSION_KEY]: secretHash },
      { [SESSION_ACCOUNT_KEY]: username, [SESSION_KEY]: SESSIONS_ENDED },
    ];
    const found: Record<string, unknown>[] = [];
    for (let attempt = 1; keys.length > 0; attempt++) {
      if (attempt > MAX_BATCH_ATTEMPTS) throw new StoreBusyError();
      if (attempt > 1) await sleep(Math.random() * 25 * 2 ** attempt);
      const answer = await this.client.send(
        new BatchGetCommand({
          RequestItems: { [this.tables.sessions]: { Keys: keys, ConsistentRead: true } },
        }),
      );
      found.push(...(answer.Responses?.[this.tables.sessions] ?? []));
      keys = answer.UnprocessedKeys?.[this.tables.sessions]?.Keys ?? [];
    }
    return found;
  }

  async end(token: string): Promise<void> {
    const parsed = parseCookieValue(token);
    if (!parsed) return;
    await this.client.send(
      new DeleteCommand({
        TableName: this.tables.sessions,
        Key: { [SESSION_ACCOUNT_KEY]: parsed.username, [SESSION_KEY]: parsed.secretHash },
      }),
    );
  }

  async endAll(username: string): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tables.sessions,
        Item: sessionsEndedItem(username, this.clock.now()),
      }),
    );
    // The marker has ended them all; a clean-up that fails leaves dead items to the TTL.
    await this.deleteSessionItems(username).catch(() => undefined);
  }

  /** The clean-up after the marker: the ended sessions' items go (the marker already ended them). */
  private async deleteSessionItems(username: string): Promise<void> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tables.sessions,
          KeyConditionExpression: '#account = :username',
          ExpressionAttributeNames: { '#account': SESSION_ACCOUNT_KEY, '#key': SESSION_KEY },
          ExpressionAttributeValues: { ':username': username },
          ProjectionExpression: '#key',
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      const hashes = (page.Items ?? [])
        .map((item) => item[SESSION_KEY] as string)
        .filter((hash) => hash !== SESSIONS_ENDED);
      for (let start = 0; start < hashes.length; start += BATCH_WRITE_LIMIT) {
        await this.deleteBatch(username, hashes.slice(start, start + BATCH_WRITE_LIMIT));
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  private async deleteBatch(username: string, hashes: string[]): Promise<void> {
    let requests: DeleteRequests = hashes.map((hash) => ({
      DeleteRequest: { Key: { [SESSION_ACCOUNT_KEY]: username, [SESSION_KEY]: hash } },
    }));
    for (let attempt = 1; requests.length > 0; attempt++) {
      if (attempt > MAX_BATCH_ATTEMPTS) throw new StoreBusyError();
      if (attempt > 1) await sleep(Math.random() * 25 * 2 ** attempt);
      const answer = await this.client.send(
        new BatchWriteCommand({ RequestItems: { [this.tables.sessions]: requests } }),
      );
      requests = answer.UnprocessedItems?.[this.tables.sessions] ?? [];
    }
  }
}
