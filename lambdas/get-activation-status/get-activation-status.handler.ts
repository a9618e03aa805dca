/**
 * The state machine's first task: the user's activation status, or `""` for an unknown
 * user or a missing/empty username (the original Lambda's contract, which the
 * CheckActivationStatus choice relies on).
 */
import type { Context } from 'aws-lambda';
import { type ActivationStatus, GetActivationStatusService } from '../../src/activation';
import { DynamoDbUserStore } from '../../src/users/persistence/dynamodb-user-store';
import { createDocumentClient, createDynamoDbClient } from '../../src/platform/aws/clients';
import { AWS_PRINCIPALS } from '../../src/platform/aws/principals';
import {
  awsRegion,
  type LambdaEnv,
  optional,
  optionalEndpoint,
  readLambdaEnv,
  tableName,
} from '../shared/lambda-env';
import { usernameOf } from '../shared/task-input';

export type GetActivationStatusHandler = (
  event: unknown,
  context?: Context,
) => Promise<ActivationStatus | ''>;

const ENV = {
  AWS_REGION: awsRegion,
  DYNAMODB_ENDPOINT: optionalEndpoint,
  USER_TABLE_NAME: tableName,
  USER_EMAIL_TABLE_NAME: optional(tableName),
};

/** The email table is written only at registration; this Lambda never touches it. */
const EMAIL_TABLE_NOT_USED = 'not-used-by-get-activation-status';

/** @throws LambdaEnvError naming every missing or bad variable */
export function createGetActivationStatusHandler(env: LambdaEnv): GetActivationStatusHandler {
  const vars = readLambdaEnv(env, ENV);
  const documentClient = createDocumentClient(
    createDynamoDbClient({
      region: vars.AWS_REGION,
      endpoint: vars.DYNAMODB_ENDPOINT,
      principal: AWS_PRINCIPALS.getActivationStatus,
    }),
  );
  const store = new DynamoDbUserStore(documentClient, {
    users: vars.USER_TABLE_NAME,
    userEmails: vars.USER_EMAIL_TABLE_NAME ?? EMAIL_TABLE_NOT_USED,
  });
  const service = new GetActivationStatusService(store);

  // UserStoreError propagates: the state machine retries it by name.
  return async (event) => service.statusOf(usernameOf(event) ?? '');
}
