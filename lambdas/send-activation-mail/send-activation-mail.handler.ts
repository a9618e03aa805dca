/**
 * The state machine's two mail tasks, one function:
 * - SendActivationMail (`{"username", "mailRequestId"}`): sends the mail of that open
 *   request through SES (SendActivationMailService: conditional claim, one mail per claim):
 *   the activation mail to a NONE user, or an active user's notice. Answers
 *   `{"result":"OK", "claimId", "sentAt", "notice"?}`, the original Lambda's `OK` plus what
 *   the next state needs; or a "not appropriate" result when there is nothing to send.
 * - RecordMailSent (`{"username", "mailed": {"claimId", "sentAt", "notice"?}}`): marks
 *   MAIL_SENT (or closes the notice's request) for that claim. A state of its own with its own retries, so that a failed write after SES
 *   took the mail is retried without mailing again.
 * Failures propagate as the core's typed errors; their `name` is what the state machine's
 * Retry and Catch match on.
 */
import type { Context } from 'aws-lambda';
import {
  type Clock,
  MAX_ACTIVATION_MAIL_LEASE_SECONDS,
  SendActivationMailService,
  SENDER_ADDRESS_PATTERN,
  SystemClock,
  usernameProblems,
} from '../../src/activation';
import { DynamoDbUserStore } from '../../src/users/persistence/dynamodb-user-store';
import {
  createDocumentClient,
  createDynamoDbClient,
  createSesClient,
} from '../../src/platform/aws/clients';
import { AWS_PRINCIPALS } from '../../src/platform/aws/principals';
import {
  awsRegion,
  integer,
  type LambdaEnv,
  optional,
  optionalEndpoint,
  readLambdaEnv,
  requiredText,
  tableName,
  urlList,
} from '../shared/lambda-env';
import { SesMailer } from '../shared/ses-mailer';
import { InvalidTaskInputError, mailedOf, mailRequestIdOf, usernameOf } from '../shared/task-input';

export interface SendActivationMailResult {
  /** `OK` (sent), `RECORDED` (MAIL_SENT written), or why nothing was done. */
  readonly result: string;
  /** With `OK`: the claim whose mail went out, for RecordMailSent. */
  readonly claimId?: string;
  readonly sentAt?: string;
  /** With `OK`, when the mail was an active account's notice. */
  readonly notice?: true;
}

export type SendActivationMailHandler = (
  event: unknown,
  context?: Context,
) => Promise<SendActivationMailResult>;

/** What tests may replace; the Lambda entry passes nothing. */
export interface SendActivationMailDependencies {
  readonly clock?: Clock;
}

const ENV = {
  AWS_REGION: awsRegion,
  DYNAMODB_ENDPOINT: optionalEndpoint,
  SES_ENDPOINT: optionalEndpoint,
  USER_TABLE_NAME: tableName,
  USER_EMAIL_TABLE_NAME: optional(tableName),
  FROM_ADDRESS: requiredText(
    SENDER_ADDRESS_PATTERN,
    'an address like no-reply@example.org or "Name <no-reply@example.org>"',
  ),
  /**
   * The link bases a mail may point at; a user whose stored base is not listed gets none,
   * and one without a base of its own (a legacy item) gets the first.
   */
  ACTIVATION_URL_BASES: urlList,
  ACTIVATION_TOKEN_TTL_SECONDS: integer({ defaultValue: 72 * 3600, min: 300, max: 30 * 24 * 3600 }),
  PASSWORD_RESET_TOKEN_TTL_SECONDS: integer({ defaultValue: 3600, min: 300, max: 24 * 3600 }),
  /** Longer than the function's timeout; shorter than the state machine's in-progress retries. */
  ACTIVATION_MAIL_LEASE_SECONDS: integer({
    defaultValue: 60,
    min: 5,
    max: MAX_ACTIVATION_MAIL_LEASE_SECONDS,
  }),
};

const EMAIL_TABLE_NOT_USED = 'not-used-by-send-activation-mail';

export function notAppropriateResult(username: string, status: string): SendActivationMailResult {
  return { result: `Activation status of user ${username} is not appropriate. It is ${status}` };
}

/** @throws LambdaEnvError naming every missing or bad variable */
export function createSendActivationMailHandler(
  env: LambdaEnv,
  dependencies: SendActivationMailDependencies = {},
): SendActivationMailHandler {
  const vars = readLambdaEnv(env, ENV);
  const principal = AWS_PRINCIPALS.sendActivationMail;
  const documentClient = createDocumentClient(
    createDynamoDbClient({ region: vars.AWS_REGION, endpoint: vars.DYNAMODB_ENDPOINT, principal }),
  );
  const sesClient = createSesClient({
    region: vars.AWS_REGION,
    endpoint: vars.SES_ENDPOINT,
    principal,
  });
  const service = new SendActivationMailService(
    new DynamoDbUserStore(documentClient, {
      users: vars.USER_TABLE_NAME,
      userEmails: vars.USER_EMAIL_TABLE_NAME ?? EMAIL_TABLE_NOT_USED,
    }),
    new SesMailer(sesClient, vars.FROM_ADDRESS),
    dependencies.clock ?? new SystemClock(),
    {
      tokenTtlSeconds: vars.ACTIVATION_TOKEN_TTL_SECONDS,
      passwordResetTokenTtlSeconds: vars.PASSWORD_RESET_TOKEN_TTL_SECONDS,
      claimLeaseSeconds: vars.ACTIVATION_MAIL_LEASE_SECONDS,
      allowedActivationUrlBases: vars.ACTIVATION_URL_BASES,
    },
  );

  return async (event) => {
    const username = usernameOf(event);
    // A name no user can have would reach DynamoDB as a bad key and come back as a
    // retryable store error; refuse it here, once.
    if (username === undefined || usernameProblems(username).length > 0) {
      throw new InvalidTaskInputError(
        `The task input needs a valid "username"; got ${JSON.stringify(username ?? null)}.`,
      );
    }
    const mailed = mailedOf(event);
    if (mailed) {
      const recorded = await service.recordMailSent(
        username,
        mailed.claimId,
        mailed.sentAt,
        mailed.notice,
      );
      return recorded.recorded
        ? { result: 'RECORDED' }
        : notAppropriateResult(username, recorded.status);
    }
    const outcome = await service.send(username, mailRequestIdOf(event));
    if (!outcome.sent) return notAppropriateResult(username, outcome.status);
    return {
      result: 'OK',
      claimId: outcome.claimId,
      sentAt: outcome.sentAt,
      ...(outcome.notice ? { notice: true } : {}),
    };
  };
}
