import { createHash, randomBytes } from 'node:crypto';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../../activation';
import { SESSION_KEY, SESSION_TTL_ATTRIBUTE } from '../persistence/user-tables';
import { type NewSession, type Session, SessionStore } from './session-store';

const TOKEN_BYTES = 32;
// base64url of 32 bytes; anything else cannot be one of our tokens and is not looked up.
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export class DynamoDbSessionStore extends SessionStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock,
    private readonly ttlSeconds: number,
  ) {
    super();
  }

  async start(username: string): Promise<NewSession> {
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + this.ttlSeconds * 1000);
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          [SESSION_KEY]: hashToken(token),
          username,
          createdAt: now.toISOString(),
          [SESSION_TTL_ATTRIBUTE]: Math.ceil(expiresAt.getTime() / 1000),
        },
      }),
    );
    return { token, username, expiresAt };
  }

  async find(token: string): Promise<Session | undefined> {
    if (!TOKEN_PATTERN.test(token)) return undefined;
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { [SESSION_KEY]: hashToken(token) },
        ConsistentRead: true,
      }),
    );
    const expiresAtSeconds = Item?.[SESSION_TTL_ATTRIBUTE];
    if (typeof Item?.username !== 'string' || typeof expiresAtSeconds !== 'number')
      return undefined;
    // TTL deletion lags by up to days: an expired item still in the table is not a session.
    const expiresAt = new Date(expiresAtSeconds * 1000);
    if (expiresAt <= this.clock.now()) return undefined;
    return { username: Item.username, expiresAt };
  }

  async end(token: string): Promise<void> {
    if (!TOKEN_PATTERN.test(token)) return;
    await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: { [SESSION_KEY]: hashToken(token) } }),
    );
  }
}
