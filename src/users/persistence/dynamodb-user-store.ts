/**
 * The core's UserStore on DynamoDB. Framework-free on purpose: the Nest module binds it,
 * and a Lambda can build it by hand.
 *
 * Uniqueness of username and email is enforced by DynamoDB itself: the user item and the
 * email-claim item are written in one transaction, each with `attribute_not_exists`, so
 * two racing registrations can never both win and a failed one leaves nothing behind.
 */
import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  ActivationStatus,
  EmailTakenError,
  emailKey,
  isActivationStatus,
  StoreBusyError,
  UsernameTakenError,
  UserNotFoundError,
  type UserRecord,
  UserStore,
} from '../../activation';
import type { TableNames } from '../../config/app-config';
import { USER_EMAIL_KEY, USER_KEY } from './user-tables';

/** A stored item that does not look like a user: a bug or a manual edit, never client input. */
export class CorruptUserItemError extends Error {
  constructor(readonly username: string) {
    super(`The stored item of user '${username}' is not a valid user record.`);
    this.name = 'CorruptUserItemError';
  }
}

const MAX_TRANSACTION_ATTEMPTS = 6;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function reasonCodes(error: TransactionCanceledException): (string | undefined)[] {
  return (error.CancellationReasons ?? []).map((reason) => reason.Code);
}

export class DynamoDbUserStore extends UserStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: Pick<TableNames, 'users' | 'userEmails'>,
  ) {
    super();
  }

  async create(user: UserRecord): Promise<void> {
    const command = new TransactWriteCommand({
      TransactItems: [
        {
          Put: {
            TableName: this.tables.users,
            Item: { ...user },
            ConditionExpression: 'attribute_not_exists(#key)',
            ExpressionAttributeNames: { '#key': USER_KEY },
          },
        },
        {
          Put: {
            TableName: this.tables.userEmails,
            Item: { [USER_EMAIL_KEY]: emailKey(user.email), username: user.username },
            ConditionExpression: 'attribute_not_exists(#key)',
            ExpressionAttributeNames: { '#key': USER_EMAIL_KEY },
          },
        },
      ],
    });

    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(command);
        return;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const [userReason, emailReason] = reasonCodes(error);
        if (userReason === 'ConditionalCheckFailed') throw new UsernameTakenError(user.username);
        if (emailReason === 'ConditionalCheckFailed') throw new EmailTakenError();
        // TransactionConflict: another transaction holds one of the keys right now. Its
        // outcome decides ours, so look again shortly (jittered, growing backoff).
        if (attempt >= MAX_TRANSACTION_ATTEMPTS) throw new StoreBusyError({ cause: error });
        await sleep(Math.random() * 25 * 2 ** attempt);
      }
    }
  }

  async findByUsername(username: string): Promise<UserRecord | undefined> {
    // DynamoDB refuses an empty key value (ValidationException, a 500 for a blank login
    // username); no user has one.
    if (username === '') return undefined;
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tables.users,
        Key: { [USER_KEY]: username },
        ConsistentRead: true,
      }),
    );
    return Item ? toUserRecord(Item) : undefined;
  }

  async markActivated(username: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tables.users,
          Key: { [USER_KEY]: username },
          UpdateExpression: 'SET activationStatus = :done',
          ConditionExpression: 'attribute_exists(#key)',
          ExpressionAttributeNames: { '#key': USER_KEY },
          ExpressionAttributeValues: { ':done': ActivationStatus.DONE },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new UserNotFoundError(username);
      throw error;
    }
  }
}

function toUserRecord(item: Record<string, unknown>): UserRecord {
  const text = (key: string) => (typeof item[key] === 'string' ? (item[key] as string) : undefined);
  const [username, email, name, passwordHash, activationUrlBase, createdAt] = [
    'username',
    'email',
    'name',
    'passwordHash',
    'activationUrlBase',
    'createdAt',
  ].map(text);
  const activationStatus = item.activationStatus;
  if (
    !username ||
    !email ||
    name === undefined ||
    !passwordHash ||
    !activationUrlBase ||
    !createdAt ||
    !isActivationStatus(activationStatus)
  ) {
    throw new CorruptUserItemError(String(item.username));
  }
  return { username, email, name, passwordHash, activationStatus, activationUrlBase, createdAt };
}
