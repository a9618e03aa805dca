/**
 * The core's UserStore on DynamoDB. Framework-free on purpose: the Nest module binds it,
 * and a Lambda can build it by hand.
 *
 * Uniqueness of username and email is enforced by DynamoDB itself: the user item and the
 * email-claim item are written in one transaction, each conditioned on being free (absent
 * or expired) or, for a takeover, on still being the replaced pending account's, whose
 * item the same transaction deletes; so two racing registrations can never both hold one
 * name or address, and a failed one leaves nothing behind.
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
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  type AccountNoticeClaim,
  type ActivationMailClaim,
  ActivationStatus,
  type ClaimOutcome,
  type EmailClaim,
  EmailTakenError,
  emailKey,
  storedEmailKey,
  isActivationStatus,
  isMailRequestKind,
  legacyEmailKeys,
  isExpiredPending,
  LegacyPassword,
  type LegacyPasswordUpgrade,
  type MailRequest,
  MailRequestKind,
  noticeHoldSince,
  type PasswordChange,
  type PasswordResetMailClaim,
  type Replaced,
  StoreBusyError,
  UsernameTakenError,
  type NewUserRecord,
  type UserRecord,
  UserStore,
} from '../../activation';
import type { TableNames } from '../../config/app-config';
import { backOff, CONDITION_FAILED, reasonCodes } from './transaction-retry';
import { endSessionsUpdate, USER_EMAIL_KEY, USER_KEY } from './user-tables';

/** A stored item that does not look like a user: a bug or a manual edit, never client input. */
export class CorruptUserItemError extends Error {
  constructor(readonly username: string) {
    super(`The stored item of user '${username}' is not a valid user record.`);
    this.name = 'CorruptUserItemError';
  }
}

const MAX_TRANSACTION_ATTEMPTS = 6;

/** No live send claim, or the caller's own (the SDK's retry of this very write after a lost answer). */
const FREE_CLAIM =
  '(attribute_not_exists(mailClaimExpiresAt) OR mailClaimExpiresAt <= :now OR mailClaimId = :claimId)';
/** The attributes of an open mail request and its send claim, removed when it is done. */
const OPEN_REQUEST = 'mailClaimId, mailClaimExpiresAt, mailRequestId, mailRequestKind';
/** The live reset token's attributes. */
const RESET_TOKEN = 'passwordResetTokenHash, passwordResetTokenExpiresAt';
/** Active, or pending and not expired (`:done`, `:nowSeconds`). */
const LIVE_ACCOUNT =
  '(activationStatus = :done OR attribute_not_exists(expiresAt) OR expiresAt > :nowSeconds)';
/** No unsent password-changed notice younger than the hold (`:changed`, `:holdSince`). */
const NOT_HOLDING_NOTICE = 'NOT (mailRequestKind = :changed AND passwordChangedAt > :holdSince)';

/**
 * What the store does with an item it cannot read as a user (CorruptUserItemError). Unset:
 * throws (the pipeline's tasks fail, visibly). Set (the API): the item counts as no
 * account to every reader — sign-in 401, a link not valid, a mail request answered but
 * nothing sent — after this is told; it is never written over (every write is conditional
 * on the item, and a sign-up's put on its username being free), and never deleted.
 */
export interface DynamoDbUserStoreOptions {
  readonly onUnreadableItem?: (error: CorruptUserItemError) => void;
}

export class DynamoDbUserStore extends UserStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    /** `sessions` only where passwords change (the API): a change ends the account's sessions. */
    private readonly tables: Pick<TableNames, 'users' | 'userEmails'> &
      Partial<Pick<TableNames, 'sessions'>>,
    private readonly options: DynamoDbUserStoreOptions = {},
  ) {
    super();
  }

  async create(user: NewUserRecord, replacing?: Replaced): Promise<void> {
    // A pending account past its expiry counts as absent, whatever DynamoDB's TTL has not
    // deleted yet: its user item is overwritten (a MODIFY on the stream, which the new
    // request id makes start the activation mail) and so is its claim.
    const now = Math.floor(Date.parse(user.createdAt) / 1000);
    const refused = await this.transact(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: this.tables.users,
              Item: storedItem(user),
              ConditionExpression:
                'attribute_not_exists(#key) OR (activationStatus <> :done AND expiresAt <= :now)',
              ExpressionAttributeNames: { '#key': USER_KEY },
              ExpressionAttributeValues: { ':done': ActivationStatus.DONE, ':now': now },
            },
          },
          ...this.emailClaimWrites(user, now, replacing),
        ],
      }),
    );
    this.throwRefusal(refused, user.username);
  }

  async updatePending(
    previous: UserRecord,
    next: NewUserRecord,
    replacing?: Replaced,
  ): Promise<void> {
    const now = Math.floor(Date.parse(next.createdAt) / 1000);
    const sameKey = storedEmailKey(previous.email) === emailKey(next.email);
    const claimWrites = sameKey
      ? [this.ownClaimPut(next)]
      : [
          {
            Delete: {
              TableName: this.tables.userEmails,
              Key: { [USER_EMAIL_KEY]: storedEmailKey(previous.email) },
              ConditionExpression: 'attribute_not_exists(#key) OR username = :username',
              ExpressionAttributeNames: { '#key': USER_EMAIL_KEY },
              ExpressionAttributeValues: { ':username': previous.username },
            },
          },
          ...this.emailClaimWrites(next, now, replacing),
        ];
    const refused = await this.transact(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: this.tables.users,
              Item: storedItem(next),
              // Still the account whose password the caller verified, still pending.
              ConditionExpression:
                'passwordHash = :hash AND email = :email AND activationStatus IN (:none, :sent) ' +
                'AND (attribute_not_exists(expiresAt) OR expiresAt > :now)',
              ExpressionAttributeValues: {
                ':hash': previous.passwordHash,
                ':email': previous.email,
                ':none': ActivationStatus.NONE,
                ':sent': ActivationStatus.MAIL_SENT,
                ':now': now,
              },
            },
          },
          ...claimWrites,
        ],
      }),
    );
    this.throwRefusal(refused, next.username);
  }

  /** One reason per item, the user's first: its refusal is a taken username, any other an address. */
  private throwRefusal(refused: (string | undefined)[] | undefined, username: string): void {
    if (!refused) return;
    const [userReason, ...emailReasons] = refused;
    if (userReason === CONDITION_FAILED) throw new UsernameTakenError(username);
    if (emailReasons.includes(CONDITION_FAILED)) throw new EmailTakenError();
  }

  /** A pending account's claim on an address it already holds, with its new expiry. */
  private ownClaimPut(user: UserRecord) {
    return {
      Put: {
        TableName: this.tables.userEmails,
        Item: this.claimItem(user),
        ConditionExpression: 'attribute_not_exists(#key) OR username = :username',
        ExpressionAttributeNames: { '#key': USER_EMAIL_KEY },
        ExpressionAttributeValues: { ':username': user.username },
      },
    };
  }

  private claimItem(user: UserRecord) {
    return {
      [USER_EMAIL_KEY]: emailKey(user.email),
      username: user.username,
      ...(user.expiresAt === undefined ? {} : { expiresAt: user.expiresAt }),
    };
  }

  /**
   * The claim on a new address: free (absent or expired), or held by the pending account
   * `replacing`, which is deleted in the same transaction while it is still pending; and
   * no claim under the address's old keys.
   */
  private emailClaimWrites(user: UserRecord, now: number, replacing?: Replaced) {
    const claim = replacing
      ? {
          // A claim of an active account has no expiresAt, so it never passes.
          ConditionExpression: 'username = :replaced',
          ExpressionAttributeValues: { ':replaced': replacing.username },
        }
      : {
          // Or a stale claim of the registrant's own username: the user item written in the
          // same transaction is conditioned on that username being free or expired.
          ConditionExpression:
            'attribute_not_exists(#key) OR expiresAt <= :now OR username = :self',
          ExpressionAttributeNames: { '#key': USER_EMAIL_KEY },
          ExpressionAttributeValues: { ':now': now, ':self': user.username },
        };
    return [
      { Put: { TableName: this.tables.userEmails, Item: this.claimItem(user), ...claim } },
      ...(replacing
        ? [
            {
              Delete: {
                TableName: this.tables.users,
                Key: { [USER_KEY]: replacing.username },
                ConditionExpression: 'activationStatus <> :done',
                ExpressionAttributeValues: { ':done': ActivationStatus.DONE },
              },
            },
          ]
        : []),
      ...legacyEmailKeys(user.email).map((legacyKey) => ({
        ConditionCheck: {
          TableName: this.tables.userEmails,
          Key: { [USER_EMAIL_KEY]: legacyKey },
          ConditionExpression: 'attribute_not_exists(#key)',
          ExpressionAttributeNames: { '#key': USER_EMAIL_KEY },
        },
      })),
    ];
  }

  async findEmailClaim(email: string): Promise<EmailClaim | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tables.userEmails,
        Key: { [USER_EMAIL_KEY]: emailKey(email) },
        ConsistentRead: true,
      }),
    );
    if (!Item || typeof Item.username !== 'string') return undefined;
    const expiresAt = Number.isSafeInteger(Item.expiresAt) ? (Item.expiresAt as number) : undefined;
    return { username: Item.username, ...(expiresAt === undefined ? {} : { expiresAt }) };
  }

  async requestMail(username: string, request: MailRequest, now: string): Promise<boolean> {
    const values = { ':id': request.id, ':kind': request.kind };
    const hold = {
      ':changed': MailRequestKind.PASSWORD_CHANGED,
      ':holdSince': noticeHoldSince(now),
    };
    if (request.kind === MailRequestKind.PASSWORD_RESET) {
      return this.conditionalUpdate({
        Key: { [USER_KEY]: username },
        UpdateExpression:
          'SET mailRequestId = :id, mailRequestKind = :kind ' +
          `REMOVE ${RESET_TOKEN}, mailClaimId, mailClaimExpiresAt`,
        ConditionExpression: `attribute_exists(#key) AND ${LIVE_ACCOUNT} AND ${NOT_HOLDING_NOTICE}`,
        ExpressionAttributeNames: { '#key': USER_KEY },
        ExpressionAttributeValues: {
          ...values,
          ...hold,
          ':done': ActivationStatus.DONE,
          ':nowSeconds': Math.floor(Date.parse(now) / 1000),
        },
      });
    }
    if (request.kind !== MailRequestKind.ACTIVATION) {
      return this.conditionalUpdate({
        Key: { [USER_KEY]: username },
        UpdateExpression:
          'SET mailRequestId = :id, mailRequestKind = :kind REMOVE mailClaimId, mailClaimExpiresAt',
        ConditionExpression: `activationStatus = :done AND ${NOT_HOLDING_NOTICE}`,
        ExpressionAttributeValues: { ...values, ...hold, ':done': ActivationStatus.DONE },
      });
    }
    return this.conditionalUpdate({
      Key: { [USER_KEY]: username },
      UpdateExpression:
        'SET activationStatus = :none, mailRequestId = :id, mailRequestKind = :kind ' +
        'REMOVE activationTokenHash, activationTokenExpiresAt, mailClaimId, mailClaimExpiresAt',
      ConditionExpression:
        'activationStatus IN (:none, :sent) AND ' +
        '(attribute_not_exists(expiresAt) OR expiresAt > :nowSeconds)',
      ExpressionAttributeValues: {
        ...values,
        ':none': ActivationStatus.NONE,
        ':sent': ActivationStatus.MAIL_SENT,
        ':nowSeconds': Math.floor(Date.parse(now) / 1000),
      },
    });
  }

  async requestSignUpNotice(
    owner: string,
    email: string,
    request: MailRequest,
    now: string,
    quietSince: string,
  ): Promise<'REQUESTED' | 'QUIET' | 'CHANGED'> {
    const refused = await this.transact(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: this.tables.users,
              Key: { [USER_KEY]: owner },
              UpdateExpression:
                'SET mailRequestId = :id, mailRequestKind = :kind, signUpNoticeRequestedAt = :now ' +
                'REMOVE mailClaimId, mailClaimExpiresAt',
              ConditionExpression:
                'activationStatus = :done AND (attribute_not_exists(signUpNoticeRequestedAt) ' +
                `OR signUpNoticeRequestedAt <= :quietSince) AND ${NOT_HOLDING_NOTICE}`,
              ExpressionAttributeValues: {
                ':id': request.id,
                ':kind': request.kind,
                ':now': now,
                ':quietSince': quietSince,
                ':done': ActivationStatus.DONE,
                ':changed': MailRequestKind.PASSWORD_CHANGED,
                ':holdSince': noticeHoldSince(now),
              },
            },
          },
          {
            ConditionCheck: {
              TableName: this.tables.userEmails,
              Key: { [USER_EMAIL_KEY]: emailKey(email) },
              ConditionExpression: 'username = :owner AND attribute_not_exists(expiresAt)',
              ExpressionAttributeValues: { ':owner': owner },
            },
          },
        ],
      }),
    );
    if (!refused) return 'REQUESTED';
    // The address is still the active owner's, so the owner's condition failed: a notice
    // was asked for recently, an unsent password-changed notice holds (or the owner is a pending account from before claims
    // expired, which this treats as active).
    return refused[1] === CONDITION_FAILED ? 'CHANGED' : 'QUIET';
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
    if (!Item) return undefined;
    try {
      return toUserRecord(Item);
    } catch (error) {
      if (!(error instanceof CorruptUserItemError) || !this.options.onUnreadableItem) throw error;
      this.options.onUnreadableItem(error);
      return undefined;
    }
  }

  async upgradeLegacyPassword(
    username: string,
    legacy: LegacyPassword,
    passwordHash: string,
  ): Promise<LegacyPasswordUpgrade> {
    const upgraded = await this.conditionalUpdate({
      Key: { [USER_KEY]: username },
      // The oldest items (before activation existed) get the DONE that reading them assumed.
      UpdateExpression:
        'SET passwordHash = :hash, activationStatus = if_not_exists(activationStatus, :done) ' +
        'REMOVE #password',
      ConditionExpression: '#password = :plaintext AND attribute_not_exists(passwordHash)',
      ExpressionAttributeNames: { '#password': LEGACY_PASSWORD },
      ExpressionAttributeValues: {
        ':hash': passwordHash,
        ':done': ActivationStatus.DONE,
        ':plaintext': legacy.revealForConditionalWrite(),
      },
    });
    return upgraded ? 'UPGRADED' : 'CHANGED';
  }

  async claimActivationMail(username: string, claim: ActivationMailClaim): Promise<ClaimOutcome> {
    const request =
      claim.requestId === undefined
        ? { condition: 'attribute_not_exists(mailRequestId)', values: {} }
        : { condition: 'mailRequestId = :requestId', values: { ':requestId': claim.requestId } };
    const claimed = await this.conditionalUpdate({
      Key: { [USER_KEY]: username },
      UpdateExpression:
        'SET mailClaimId = :claimId, mailClaimExpiresAt = :leaseEnd, ' +
        'activationTokenHash = :tokenHash, activationTokenExpiresAt = :tokenEnd',
      ConditionExpression: `attribute_exists(#key) AND activationStatus = :none AND ${request.condition} AND ${FREE_CLAIM}`,
      ExpressionAttributeNames: { '#key': USER_KEY },
      ExpressionAttributeValues: {
        ...request.values,
        ':claimId': claim.claimId,
        ':leaseEnd': claim.leaseExpiresAt,
        ':tokenHash': claim.tokenHash,
        ':tokenEnd': claim.tokenExpiresAt,
        ':none': ActivationStatus.NONE,
        ':now': claim.now,
      },
    });
    if (claimed) return { claimed: true };
    return this.refusedClaim(username, ActivationStatus.NONE, claim.requestId);
  }

  async claimAccountNotice(username: string, claim: AccountNoticeClaim): Promise<ClaimOutcome> {
    const claimed = await this.conditionalUpdate({
      Key: { [USER_KEY]: username },
      UpdateExpression: 'SET mailClaimId = :claimId, mailClaimExpiresAt = :leaseEnd',
      ConditionExpression: `activationStatus = :done AND mailRequestId = :requestId AND ${FREE_CLAIM}`,
      ExpressionAttributeValues: {
        ':claimId': claim.claimId,
        ':leaseEnd': claim.leaseExpiresAt,
        ':requestId': claim.requestId,
        ':done': ActivationStatus.DONE,
        ':now': claim.now,
      },
    });
    if (claimed) return { claimed: true };
    return this.refusedClaim(username, ActivationStatus.DONE, claim.requestId);
  }

  async claimPasswordResetMail(
    username: string,
    claim: PasswordResetMailClaim,
  ): Promise<ClaimOutcome> {
    const claimed = await this.conditionalUpdate({
      Key: { [USER_KEY]: username },
      UpdateExpression:
        'SET mailClaimId = :claimId, mailClaimExpiresAt = :leaseEnd, ' +
        'passwordResetTokenHash = :tokenHash, passwordResetTokenExpiresAt = :tokenEnd',
      ConditionExpression:
        `mailRequestId = :requestId AND mailRequestKind = :reset AND ${LIVE_ACCOUNT} AND ` +
        FREE_CLAIM,
      ExpressionAttributeValues: {
        ':claimId': claim.claimId,
        ':leaseEnd': claim.leaseExpiresAt,
        ':tokenHash': claim.tokenHash,
        ':tokenEnd': claim.tokenExpiresAt,
        ':requestId': claim.requestId,
        ':reset': MailRequestKind.PASSWORD_RESET,
        ':done': ActivationStatus.DONE,
        ':now': claim.now,
        ':nowSeconds': Math.floor(Date.parse(claim.now) / 1000),
      },
    });
    if (claimed) return { claimed: true };
    const user = await this.findByUsername(username);
    if (!user || isExpiredPending(user, new Date(claim.now))) {
      return { claimed: false, reason: 'NOT_FOUND' };
    }
    if (
      user.mailRequestId !== claim.requestId ||
      user.mailRequestKind !== MailRequestKind.PASSWORD_RESET
    ) {
      return { claimed: false, reason: 'NOT_OPEN' };
    }
    return { claimed: false, reason: 'HELD' };
  }

  /**
   * Which part of a claim's condition failed: read it back (a race in between only changes
   * which refusal is reported, never whether the claim was taken).
   */
  private async refusedClaim(
    username: string,
    status: ActivationStatus,
    requestId: string | undefined,
  ): Promise<ClaimOutcome> {
    const user = await this.findByUsername(username);
    if (!user) return { claimed: false, reason: 'NOT_FOUND' };
    if (user.activationStatus !== status) return { claimed: false, reason: 'NOT_NONE' };
    if (user.mailRequestId !== requestId) return { claimed: false, reason: 'NOT_OPEN' };
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
        'SET activationStatus = :sent, activationMailSentAt = :sentAt ' + `REMOVE ${OPEN_REQUEST}`,
      ConditionExpression: 'mailClaimId = :claimId AND activationStatus = :none',
      ExpressionAttributeValues: {
        ':claimId': claimId,
        ':sent': ActivationStatus.MAIL_SENT,
        ':sentAt': sentAt,
        ':none': ActivationStatus.NONE,
      },
    });
  }

  async markNoticeSent(username: string, claimId: string): Promise<boolean> {
    return this.conditionalUpdate({
      Key: { [USER_KEY]: username },
      UpdateExpression: `REMOVE ${OPEN_REQUEST}`,
      // A claim id is one send attempt's own: it is held only for the request it claimed.
      ConditionExpression: 'mailClaimId = :claimId',
      ExpressionAttributeValues: { ':claimId': claimId },
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
        `REMOVE ${OPEN_REQUEST}, ${RESET_TOKEN}, expiresAt`,
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
    const refused = await this.transact(
      new TransactWriteCommand({
        TransactItems: [{ Update: activateUser }, { Update: this.keepClaim(user) }],
      }),
    );
    return refused === undefined;
  }

  /** The e-mail claim of a pending account that becomes active: it loses its expiry. */
  private keepClaim(user: Pick<UserRecord, 'username' | 'email'>) {
    return {
      TableName: this.tables.userEmails,
      Key: { [USER_EMAIL_KEY]: storedEmailKey(user.email) },
      UpdateExpression: 'REMOVE expiresAt',
      ConditionExpression: 'username = :username',
      ExpressionAttributeValues: { ':username': user.username },
    };
  }

  /**
   * One transaction: the user item (new hash, tokens gone, the notice's request, DONE),
   * the e-mail claim's expiry for a pending account, and the account's sessions marker.
   */
  async changePassword(change: PasswordChange): Promise<boolean> {
    const { user, proof, request, now } = change;
    if (user.username === '') return false;
    if (this.tables.sessions === undefined) {
      throw new Error('DynamoDbUserStore: changePassword needs the sessions table');
    }
    const byReset = 'resetTokenHash' in proof;
    const updateUser = {
      TableName: this.tables.users,
      Key: { [USER_KEY]: user.username },
      UpdateExpression:
        'SET passwordHash = :newHash, passwordChangedAt = :now, activationStatus = :done, ' +
        'activatedAt = if_not_exists(activatedAt, :now), ' +
        'mailRequestId = :requestId, mailRequestKind = :kind ' +
        `REMOVE ${RESET_TOKEN}, activationTokenHash, activationTokenExpiresAt, ` +
        // A legacy account reset before its first sign-in: its plaintext goes too.
        `mailClaimId, mailClaimExpiresAt, expiresAt, ${LEGACY_PASSWORD}`,
      ConditionExpression: byReset
        ? `passwordResetTokenHash = :proof AND passwordResetTokenExpiresAt > :now AND ${LIVE_ACCOUNT}`
        : 'passwordHash = :proof AND activationStatus = :done',
      ExpressionAttributeValues: {
        ':newHash': change.newPasswordHash,
        ':now': now,
        ':done': ActivationStatus.DONE,
        ':requestId': request.id,
        ':kind': request.kind,
        ':proof': byReset ? proof.resetTokenHash : proof.passwordHash,
        ...(byReset ? { ':nowSeconds': Math.floor(Date.parse(now) / 1000) } : {}),
      },
    };
    const refused = await this.transact(
      new TransactWriteCommand({
        TransactItems: [
          { Update: updateUser },
          ...(byReset && user.expiresAt !== undefined ? [{ Update: this.keepClaim(user) }] : []),
          {
            Update: {
              TableName: this.tables.sessions,
              ...endSessionsUpdate(user.username, new Date(now)),
            },
          },
        ],
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
        await backOff(attempt);
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

/**
 * A stored item as a UserRecord, or CorruptUserItemError. Two kinds of item:
 * - this service's (it has `createdAt`): every field it writes must be there;
 * - the Spring app's (no `createdAt`; docs/taking-over-the-spring-app.md): a plaintext
 *   `password` until its first sign-in replaces it by `passwordHash`; `email` and `name`
 *   may be missing; no `activationStatus` (the oldest, before activation existed) is an
 *   active account; its `activationUrlBase` and `activationToken` are never read.
 * Attributes neither kind knows (`balance`, anything else) are kept as they are
 * (`otherAttributes`).
 */
function toUserRecord(item: Record<string, unknown>): UserRecord {
  const text = (key: string) => (typeof item[key] === 'string' ? (item[key] as string) : undefined);
  const [username, email, name, passwordHash, activationUrlBase, createdAt, password] = [
    'username',
    'email',
    'name',
    'passwordHash',
    'activationUrlBase',
    'createdAt',
    LEGACY_PASSWORD,
  ].map(text);
  const legacy = isLegacyItem(item);
  const activationStatus =
    legacy && item.activationStatus === undefined ? ActivationStatus.DONE : item.activationStatus;
  const credential = passwordHash
    ? { passwordHash }
    : legacy && password !== undefined
      ? { legacyPassword: new LegacyPassword(password) }
      : undefined;
  if (
    !username ||
    !credential ||
    !isActivationStatus(activationStatus) ||
    (!legacy && (!email || name === undefined || !activationUrlBase))
  ) {
    throw new CorruptUserItemError(String(item.username));
  }
  const optional = Object.fromEntries(
    OPTIONAL_TEXT_FIELDS.flatMap((key) => {
      const value = text(key);
      return value === undefined ? [] : [[key, value]];
    }),
  );
  const mailRequestKind = isMailRequestKind(item.mailRequestKind)
    ? { mailRequestKind: item.mailRequestKind }
    : {};
  const expiresAt = item.expiresAt;
  if (expiresAt !== undefined && !Number.isSafeInteger(expiresAt)) {
    throw new CorruptUserItemError(String(item.username));
  }
  const other = Object.entries(item).filter(([key]) => !KNOWN_ATTRIBUTES.has(key));
  return {
    username,
    email: email ?? '',
    name: name ?? '',
    ...credential,
    activationStatus,
    ...(legacy ? {} : { activationUrlBase, createdAt }),
    ...optional,
    ...mailRequestKind,
    ...(expiresAt === undefined ? {} : { expiresAt: expiresAt as number }),
    ...(other.length > 0 ? { otherAttributes: Object.fromEntries(other) } : {}),
  };
}

/** An item of the Spring app (no `createdAt`), as `isLegacyAccount` is its record. */
export const isLegacyItem = (item: Record<string, unknown>): boolean =>
  typeof item.createdAt !== 'string';

/** A record as its item: what the record holds, over the attributes it only carries. */
function storedItem(user: UserRecord): Record<string, unknown> {
  const { otherAttributes, legacyPassword: _never, ...fields } = user;
  return { ...otherAttributes, ...fields };
}

/** The Spring app's plaintext password attribute. */
export const LEGACY_PASSWORD = 'password';

const OPTIONAL_TEXT_FIELDS = [
  'activationTokenHash',
  'activationTokenExpiresAt',
  'mailClaimId',
  'mailClaimExpiresAt',
  'activationMailSentAt',
  'activatedAt',
  'mailRequestId',
  'signUpNoticeRequestedAt',
  'passwordResetTokenHash',
  'passwordResetTokenExpiresAt',
  'passwordChangedAt',
] as const satisfies readonly (keyof UserRecord)[];

/**
 * Every attribute this service reads or writes; the rest of an item is `otherAttributes`.
 * `activationUrlBase` of a legacy item is known but not read: never honoured, and kept.
 */
const KNOWN_ATTRIBUTES: ReadonlySet<string> = new Set([
  'username',
  'email',
  'name',
  'passwordHash',
  LEGACY_PASSWORD,
  'activationStatus',
  'activationUrlBase',
  'createdAt',
  'mailRequestKind',
  'expiresAt',
  ...OPTIONAL_TEXT_FIELDS,
]);
