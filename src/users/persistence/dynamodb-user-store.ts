/**
 * The core's UserStore on DynamoDB. Framework-free on purpose: the Nest module binds it,
 * and a Lambda can build it by hand.
 *
 * Uniqueness of username and email is enforced by DynamoDB itself: the user item and the
 * email-claim item are written in one transaction, each with `attribute_not_exists`, so
 * two racing registrations can never both win and a failed one leaves nothing behind.
 * Claims written before the key became the delivery address (`emailKey`) are stored under
 * their old key: the same transaction checks that no claim exists under the old keys of
 * the new address either (`legacyEmailKeys`; none for most, since for an ASCII address
 * the old key is the new one).
 */
import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  type ActivationMailClaim,
  ActivationStatus,
  type ClaimOutcome,
  EmailTakenError,
  emailKey,
  isActivationStatus,
  legacyEmailKeys,
  StoreBusyError,
  UsernameTakenError,
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
const CONDITION_FAILED = 'ConditionalCheckFailed';

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
    // A pending account (and its claim) past its expiry counts as absent, whatever
    // DynamoDB's TTL has not deleted yet. Its claim is overwritten in the transaction; its
    // user item is deleted first (below), so that the new user is an INSERT on the stream,
    // the one record that starts an activation mail.
    const now = Math.floor(Date.parse(user.createdAt) / 1000);
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
            Item: {
              [USER_EMAIL_KEY]: emailKey(user.email),
              username: user.username,
              ...(user.expiresAt === undefined ? {} : { expiresAt: user.expiresAt }),
            },
            // A claim of an active account has no expiresAt, so it never passes.
            ConditionExpression: 'attribute_not_exists(#key) OR expiresAt <= :now',
            ExpressionAttributeNames: { '#key': USER_EMAIL_KEY },
            ExpressionAttributeValues: { ':now': now },
          },
        },
        ...legacyEmailKeys(user.email).map((legacyKey) => ({
          ConditionCheck: {
            TableName: this.tables.userEmails,
            Key: { [USER_EMAIL_KEY]: legacyKey },
            ConditionExpression: 'attribute_not_exists(#key)',
            ExpressionAttributeNames: { '#key': USER_EMAIL_KEY },
          },
        })),
      ],
    });

    let refused = await this.transact(command);
    // Taken, unless by a pending account past its expiry: delete it as TTL would, and try
    // once more (someone quicker may still take the name: then 409).
    if (
      refused?.[0] === CONDITION_FAILED &&
      (await this.deleteExpiredPending(user.username, now))
    ) {
      refused = await this.transact(command);
    }
    if (!refused) return;
    // One reason per item, in order: the user, the email claim, the old-key checks.
    const [userReason, ...emailReasons] = refused;
    if (userReason === CONDITION_FAILED) throw new UsernameTakenError(user.username);
    if (emailReasons.includes(CONDITION_FAILED)) throw new EmailTakenError();
  }

  /** Deletes the user item if it is a pending account expired at `now` (epoch seconds). */
  private async deleteExpiredPending(username: string, now: number): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tables.users,
          Key: { [USER_KEY]: username },
          ConditionExpression: 'activationStatus <> :done AND expiresAt <= :now',
          ExpressionAttributeValues: { ':done': ActivationStatus.DONE, ':now': now },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
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

  async claimActivationMail(username: string, claim: ActivationMailClaim): Promise<ClaimOutcome> {
    const claimed = await this.conditionalUpdate({
      Key: { [USER_KEY]: username },
      UpdateExpression:
        'SET mailClaimId = :claimId, mailClaimExpiresAt = :leaseEnd, ' +
        'activationTokenHash = :tokenHash, activationTokenExpiresAt = :tokenEnd',
      ConditionExpression:
        'attribute_exists(#key) AND activationStatus = :none AND ' +
        '(attribute_not_exists(mailClaimExpiresAt) OR mailClaimExpiresAt <= :now ' +
        // The same claim again: the SDK's retry of this very write after its first answer
        // was lost (a stall). Without this, that retry finds its own claim and waits out
        // the lease.
        'OR mailClaimId = :claimId)',
      ExpressionAttributeNames: { '#key': USER_KEY },
      ExpressionAttributeValues: {
        ':claimId': claim.claimId,
        ':leaseEnd': claim.leaseExpiresAt,
        ':tokenHash': claim.tokenHash,
        ':tokenEnd': claim.tokenExpiresAt,
        ':none': ActivationStatus.NONE,
        ':now': claim.now,
      },
    });
    if (claimed) return { claimed: true };
    // Which part of the condition failed: read it back (a race in between only changes
    // which of the three refusals is reported, never whether the claim was taken).
    const user = await this.findByUsername(username);
    if (!user) return { claimed: false, reason: 'NOT_FOUND' };
    if (user.activationStatus !== ActivationStatus.NONE)
      return { claimed: false, reason: 'NOT_NONE' };
    return { claimed: false, reason: 'HELD' };
  }

  async releaseActivationMailClaim(username: string, claimId: string): Promise<void> {
    await this.conditionalUpdate({
      Key: { [USER_KEY]: username },
      UpdateExpression: 'REMOVE mailClaimId, mailClaimExpiresAt',
      ConditionExpression: 'mailClaimId = :claimId',
      ExpressionAttributeValues: { ':claimId': claimId },
    });
  }

  async markMailSent(username: string, claimId: string, sentAt: string): Promise<boolean> {
    return this.conditionalUpdate({
      Key: { [USER_KEY]: username },
      UpdateExpression:
        'SET activationStatus = :sent, activationMailSentAt = :sentAt ' +
        'REMOVE mailClaimId, mailClaimExpiresAt',
      ConditionExpression: 'mailClaimId = :claimId AND activationStatus = :none',
      ExpressionAttributeValues: {
        ':claimId': claimId,
        ':sent': ActivationStatus.MAIL_SENT,
        ':sentAt': sentAt,
        ':none': ActivationStatus.NONE,
      },
    });
  }

  /**
   * One transaction: the user becomes DONE and loses its expiry, and so does its e-mail
   * claim (which must still be this user's). Accounts from before pending accounts
   * expired (`user.expiresAt` unset, as the caller read it) have neither expiry nor,
   * maybe, a claim under today's key: for them only the user is written.
   */
  async activate(
    user: Pick<UserRecord, 'username' | 'email' | 'expiresAt'>,
    tokenHash: string,
    now: string,
  ): Promise<boolean> {
    if (user.username === '') return false;
    const activateUser = {
      TableName: this.tables.users,
      Key: { [USER_KEY]: user.username },
      UpdateExpression:
        'SET activationStatus = :done, activatedAt = :now ' +
        'REMOVE mailClaimId, mailClaimExpiresAt, expiresAt',
      ConditionExpression:
        'activationTokenHash = :tokenHash AND activationTokenExpiresAt > :now AND ' +
        'activationStatus IN (:none, :sent) AND ' +
        '(attribute_not_exists(expiresAt) OR expiresAt > :nowSeconds)',
      ExpressionAttributeValues: {
        ':done': ActivationStatus.DONE,
        ':now': now,
        ':nowSeconds': Math.floor(Date.parse(now) / 1000),
        ':tokenHash': tokenHash,
        ':none': ActivationStatus.NONE,
        ':sent': ActivationStatus.MAIL_SENT,
      },
    };
    if (user.expiresAt === undefined) return this.conditionalUpdate(activateUser);
    const keepClaim = {
      TableName: this.tables.userEmails,
      Key: { [USER_EMAIL_KEY]: emailKey(user.email) },
      UpdateExpression: 'REMOVE expiresAt',
      ConditionExpression: 'username = :username',
      ExpressionAttributeValues: { ':username': user.username },
    };
    const refused = await this.transact(
      new TransactWriteCommand({
        TransactItems: [{ Update: activateUser }, { Update: keepClaim }],
      }),
    );
    return refused === undefined;
  }

  /**
   * Runs a transaction. TransactionConflict (another transaction holds one of the keys
   * right now; its outcome decides ours) is retried shortly, with jittered, growing
   * backoff, then StoreBusyError.
   * @returns undefined when it was written, or the cancellation reasons, one per item,
   *   when a condition failed
   */
  private async transact(
    command: TransactWriteCommand,
  ): Promise<(string | undefined)[] | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(command);
        return undefined;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = reasonCodes(error);
        if (reasons.includes(CONDITION_FAILED)) return reasons;
        if (attempt >= MAX_TRANSACTION_ATTEMPTS) throw new StoreBusyError({ cause: error });
        await sleep(Math.random() * 25 * 2 ** attempt);
      }
    }
  }

  /** @returns false when the condition did not hold; other errors are thrown */
  private async conditionalUpdate(
    input: Omit<UpdateCommandInput, 'TableName' | 'Key'> & { Key: Record<string, string> },
  ): Promise<boolean> {
    // An empty key is a ValidationException in DynamoDB; no such user exists.
    if (input.Key[USER_KEY] === '') return false;
    try {
      await this.client.send(new UpdateCommand({ TableName: this.tables.users, ...input }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
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
  const optional = Object.fromEntries(
    OPTIONAL_TEXT_FIELDS.flatMap((key) => {
      const value = text(key);
      return value === undefined ? [] : [[key, value]];
    }),
  );
  const expiresAt = item.expiresAt;
  if (expiresAt !== undefined && !Number.isSafeInteger(expiresAt)) {
    throw new CorruptUserItemError(String(item.username));
  }
  return {
    username,
    email,
    name,
    passwordHash,
    activationStatus,
    activationUrlBase,
    createdAt,
    ...optional,
    ...(expiresAt === undefined ? {} : { expiresAt: expiresAt as number }),
  };
}

const OPTIONAL_TEXT_FIELDS = [
  'activationTokenHash',
  'activationTokenExpiresAt',
  'mailClaimId',
  'mailClaimExpiresAt',
  'activationMailSentAt',
  'activatedAt',
] as const satisfies readonly (keyof UserRecord)[];
