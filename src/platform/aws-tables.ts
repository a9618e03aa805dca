/**
 * aws mode's start-up check: the deployed tables are there and the credentials in use can
 * reach them. Without it, a stack that was never deployed, a mistyped table name or an
 * expired SSO session would show up only at the first request, as a 500 in a log line.
 * On AWS the CDK stack owns the tables: this never creates one (local mode's
 * ensureTables does).
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AppConfig, TableNames } from '../config/app-config';

/** Something on the AWS side stops the start: a message for a person, no stack. */
export class AwsSetupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AwsSetupError';
  }
}

/** The variable that names each table, for the message that says what to change. */
const TABLE_VARIABLES: Readonly<Record<keyof TableNames, string>> = {
  users: 'USER_TABLE_NAME',
  userEmails: 'USER_EMAIL_TABLE_NAME',
  sessions: 'SESSION_TABLE_NAME',
  rateLimits: 'RATE_LIMIT_TABLE_NAME',
};

/**
 * No credentials in the default chain, an expired session (SSO, STS) or keys AWS does not
 * know. Matched by name: the SDK's error classes may come from another copy of the SDK.
 */
const CREDENTIALS_ERRORS = new Set([
  'CredentialsProviderError',
  'TokenProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
]);

/**
 * Node's codes for a host that is not there or not answering. Also looked for in the
 * message: the SDK's retry step re-wraps an error from another realm (jest's) in a plain
 * Error that keeps only the text.
 */
const NETWORK_ERROR = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT)\b/;

interface ErrorLike {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
}

const summary = (error: ErrorLike) =>
  `${String(error.name ?? 'Error')}: ${String(error.message ?? '')}`;

function setupErrorFor(error: ErrorLike, table: string, region: string): AwsSetupError | undefined {
  const options = { cause: error };
  if (typeof error.name === 'string' && CREDENTIALS_ERRORS.has(error.name)) {
    return new AwsSetupError(
      `no valid AWS credentials for DynamoDB in ${region} (${summary(error)}): ` +
        'sign in again (e.g. `aws sso login`), or set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY',
      options,
    );
  }
  if (error.name === 'AccessDeniedException') {
    return new AwsSetupError(
      `the AWS credentials in use may not read table ${table} in ${region} (${summary(error)}): ` +
        'they need dynamodb:DescribeTable and the item actions of the API on its four tables',
      options,
    );
  }
  if (
    error.name === 'TimeoutError' ||
    NETWORK_ERROR.test(`${String(error.code)} ${summary(error)}`)
  ) {
    return new AwsSetupError(
      `cannot reach DynamoDB in ${region} (${summary(error)}): check the network and AWS_REGION`,
      options,
    );
  }
  return undefined;
}

/**
 * Describes the API's tables. Resolves when all exist.
 * @throws AwsSetupError for missing tables (naming each and its variable), missing or
 *   expired credentials, missing permissions or an unreachable region; anything else as is
 */
export async function assertTablesExist(
  client: DynamoDBClient,
  config: Pick<AppConfig['dynamodb'], 'region' | 'tables'>,
): Promise<void> {
  const entries = Object.entries(config.tables) as [keyof TableNames, string][];
  const outcomes = await Promise.allSettled(
    entries.map(([, TableName]) => client.send(new DescribeTableCommand({ TableName }))),
  );
  const missing: [keyof TableNames, string][] = [];
  for (const [index, outcome] of outcomes.entries()) {
    if (outcome.status === 'fulfilled') continue;
    const error = outcome.reason as ErrorLike;
    const entry = entries[index]!;
    if (error.name === 'ResourceNotFoundException') {
      missing.push(entry);
      continue;
    }
    throw setupErrorFor(error, entry[1], config.region) ?? outcome.reason;
  }
  if (missing.length > 0) {
    const names = missing.map(([, name]) => name).join(', ');
    const variables = missing.map(([key]) => TABLE_VARIABLES[key]).join(', ');
    throw new AwsSetupError(
      `${missing.length === 1 ? 'table' : 'tables'} ${names} not found in ${config.region}: ` +
        `deploy the stack (npm run deploy) or set ${variables}`,
    );
  }
}
