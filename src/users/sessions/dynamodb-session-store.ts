import { createHash, randomBytes } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ActivationStatus, type Clock, StoreBusyError } from '../../activation';
import type { TableNames } from '../../config/app-config';
import {
  endSessionsUpdate,
  SESSION_ACCOUNT_KEY,
  SESSION_GENERATION,
  SESSION_KEY,
  SESSION_TTL_ATTRIBUTE,
  SESSIONS_ENDED,
  sessionsMarkerKey,
  USER_KEY,
} from '../persistence/user-tables';
import { backOff, CONDITION_FAILED, reasonCodes } from '../persistence/transaction-retry';
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

/** The generation a marker item holds (none, or no marker: 0). */
const generationIn = (marker: Record<string, unknown> | undefined): number =>
  typeof marker?.[SESSION_GENERATION] === 'number' ? marker[SESSION_GENERATION] : 0;

/**
 * Sessions in DynamoDB, under their account (see user-tables.ts). Each account's marker
 * counts the times all its sessions were ended (its generation); a session lives only in
 * the generation it was started in. A sign-in writes its session in one transaction with
 * two checks: the password it verified is still the account's, and the generation is the
 * one it read. A password change and sign-out everywhere move the generation on, the
 * change in its own transaction on the user item. So of a sign-in and a change racing,
 * either the session is written first and ended by the change, or the sign-in is refused:
 * no clock is compared. `find` reads the session and the marker in one BatchGetItem; the
 * ended sessions' items are deleted afterwards as a clean-up.
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
    for (let attempt = 1; ; attempt++) {
      const generation = await this.generationOf(account.username);
      const now = this.clock.now();
      // Whole seconds, as stored for TTL, so the cookie and `find` agree on the same instant.
      const expiresAtSeconds = Math.floor(now.getTime() / 1000) + this.ttlSeconds;
      try {
        await this.client.send(this.startWrite(account, secret, generation, now, expiresAtSeconds));
        return { token, username: account.username, expiresAt: new Date(expiresAtSeconds * 1000) };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const [user] = reasonCodes(error);
        if (user === CONDITION_FAILED) return undefined;
        // The marker moved on since it was read (sign-out everywhere, a password change
        // that this sign-in's password survived), or TransactionConflict: either holds an
        // item right now. Read the generation again.
        if (attempt >= MAX_BATCH_ATTEMPTS) throw new StoreBusyError({ cause: error });
        await backOff(attempt);
      }
    }
  }

  /** The account's sessions generation (0 before anything ended them). */
  private async generationOf(username: string): Promise<number> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tables.sessions,
        Key: sessionsMarkerKey(username),
        ProjectionExpression: '#generation',
        ExpressionAttributeNames: { '#generation': SESSION_GENERATION },
        ConsistentRead: true,
      }),
    );
    return generationIn(Item);
  }

  /**
   * One transaction: the password it verified is still the account's, the account's
   * sessions are still in `generation`, and the session item.
   */
  private startWrite(
    account: VerifiedAccount,
    secret: string,
    generation: number,
    now: Date,
    expiresAtSeconds: number,
  ): TransactWriteCommand {
    return new TransactWriteCommand({
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
          ConditionCheck: {
            TableName: this.tables.sessions,
            Key: sessionsMarkerKey(account.username),
            // No marker (or none with a generation yet) is generation 0; markers start at 1.
            ConditionExpression: 'attribute_not_exists(#generation) OR #generation = :generation',
            ExpressionAttributeNames: { '#generation': SESSION_GENERATION },
            ExpressionAttributeValues: { ':generation': generation },
          },
        },
        {
          Put: {
            TableName: this.tables.sessions,
            Item: {
              [SESSION_ACCOUNT_KEY]: account.username,
              [SESSION_KEY]: hashSecret(secret),
              [SESSION_GENERATION]: generation,
              createdAt: now.toISOString(),
              [SESSION_TTL_ATTRIBUTE]: expiresAtSeconds,
            },
          },
        },
      ],
    });
  }

  async find(token: string): Promise<Session | undefined> {
    const parsed = parseCookieValue(token);
    if (!parsed) return undefined;
    const items = await this.getBoth(parsed.username, parsed.secretHash);
    const session = items.find((item) => item[SESSION_KEY] === parsed.secretHash);
    const ended = items.find((item) => item[SESSION_KEY] === SESSIONS_ENDED);
    const expiresAtSeconds = session?.[SESSION_TTL_ATTRIBUTE];
    const generation = session?.[SESSION_GENERATION];
    if (typeof expiresAtSeconds !== 'number' || typeof generation !== 'number') return undefined;
    // TTL deletion lags by up to days: an expired item still in the table is not a session.
    const expiresAt = new Date(expiresAtSeconds * 1000);
    if (expiresAt <= this.clock.now()) return undefined;
    // Every session of the account was ended since this one started.
    if (generation !== generationIn(ended)) return undefined;
    return { token, username: parsed.username, expiresAt };
  }

  /** The session's item and the account's marker, in one strongly consistent read. */
  private async getBoth(username: string, secretHash: string): Promise<Record<string, unknown>[]> {
    let keys: Record<string, unknown>[] = [
      { [SESSION_ACCOUNT_KEY]: username, [SESSION_KEY]: secretHash },
      sessionsMarkerKey(username),
    ];
    const found: Record<string, unknown>[] = [];
    for (let attempt = 1; keys.length > 0; attempt++) {
      if (attempt > MAX_BATCH_ATTEMPTS) throw new StoreBusyError();
      if (attempt > 1) await backOff(attempt);
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
      new UpdateCommand({
        TableName: this.tables.sessions,
        ...endSessionsUpdate(username, this.clock.now()),
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
      if (attempt > 1) await backOff(attempt);
      const answer = await this.client.send(
        new BatchWriteCommand({ RequestItems: { [this.tables.sessions]: requests } }),
      );
      requests = answer.UnprocessedItems?.[this.tables.sessions] ?? [];
    }
  }
}
