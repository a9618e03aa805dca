/**
 * The User table's stream trigger: starts one state machine execution per mail request.
 * A request is a user item's `mailRequestId` (see src/activation/mail-request.ts), written
 * by a registration (INSERT, or MODIFY over an expired account), a typo fix, a resend or a
 * notice; the execution is named after it. An INSERT without one (written before requests
 * had ids) starts one named after the registration, as before.
 *
 * Record by record, with a partial batch response: only records whose StartExecution
 * really failed are reported, so the event source mapping retries from the lowest of
 * them instead of replaying the whole batch. A start that finds its execution name taken
 * (ExecutionAlreadyExists: the record came twice, or a later write of the same request's
 * item) is a success. Other records are skipped; the mapping's filter normally keeps them
 * away.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type {
  Context,
  DynamoDBBatchItemFailure,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
} from 'aws-lambda';
import { createSfnClient } from '../../src/platform/aws/clients';
import { AWS_PRINCIPALS } from '../../src/platform/aws/principals';
import {
  awsRegion,
  type LambdaEnv,
  optionalEndpoint,
  readLambdaEnv,
  requiredText,
} from '../shared/lambda-env';
import { describeError, type LogSink, stdoutLog } from '../shared/log';
import { MAIL_REQUEST_ID_PATTERN } from '../../src/activation/mail-request';
import { executionNameFor } from './execution-name';

export type UserTableTriggerHandler = (
  event: DynamoDBStreamEvent,
  context?: Context,
) => Promise<DynamoDBBatchResponse>;

/** What tests may replace; the Lambda entry passes nothing. */
export interface UserTableTriggerDependencies {
  readonly log?: LogSink;
}

const ENV = {
  AWS_REGION: awsRegion,
  SFN_ENDPOINT: optionalEndpoint,
  STEP_FUNCTION_ARN: requiredText(
    /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/,
    'a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)',
  ),
};

type RecordOutcome = 'STARTED' | 'ALREADY_STARTED' | 'SKIPPED' | 'FAILED';

/** @throws LambdaEnvError naming every missing or bad variable */
export function createUserTableTriggerHandler(
  env: LambdaEnv,
  dependencies: UserTableTriggerDependencies = {},
): UserTableTriggerHandler {
  const vars = readLambdaEnv(env, ENV);
  const sfn = createSfnClient({
    region: vars.AWS_REGION,
    endpoint: vars.SFN_ENDPOINT,
    principal: AWS_PRINCIPALS.userTableTrigger,
  });
  const log = dependencies.log ?? stdoutLog;

  async function startExecutionFor(record: DynamoDBRecord): Promise<RecordOutcome> {
    const image = record.dynamodb?.NewImage;
    const username = image?.username?.S;
    const mailRequestId = image?.mailRequestId?.S;
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    const requested =
      mailRequestId === undefined
        ? record.eventName === 'INSERT'
        : (record.eventName === 'INSERT' || record.eventName === 'MODIFY') &&
          MAIL_REQUEST_ID_PATTERN.test(mailRequestId);
    if (!requested || !username) {
      log({
        level: 'info',
        msg: 'record skipped',
        outcome: 'SKIPPED',
        sequenceNumber,
        eventName: record.eventName,
      });
      return 'SKIPPED';
    }
    const name = executionNameFor(username, image?.createdAt?.S ?? '', mailRequestId);
    try {
      const { executionArn } = await sfn.send(
        new StartExecutionCommand({
          stateMachineArn: vars.STEP_FUNCTION_ARN,
          name,
          input: JSON.stringify(
            mailRequestId === undefined ? { username } : { username, mailRequestId },
          ),
        }),
      );
      log({
        level: 'info',
        msg: 'execution started',
        outcome: 'STARTED',
        sequenceNumber,
        username,
        mailRequestId,
        executionName: name,
        executionArn,
      });
      return 'STARTED';
    } catch (error) {
      const { errorName, errorMessage } = describeError(error);
      if (errorName === 'ExecutionAlreadyExists') {
        log({
          level: 'info',
          msg: 'execution already started',
          outcome: 'ALREADY_STARTED',
          sequenceNumber,
          username,
          executionName: name,
        });
        return 'ALREADY_STARTED';
      }
      log({
        level: 'error',
        msg: 'execution not started',
        outcome: 'FAILED',
        sequenceNumber,
        username,
        executionName: name,
        errorName,
        errorMessage,
      });
      return 'FAILED';
    }
  }

  return async (event) => {
    const records = event.Records ?? [];
    const outcomes = await Promise.all(records.map(startExecutionFor));
    const batchItemFailures: DynamoDBBatchItemFailure[] = [];
    outcomes.forEach((outcome, index) => {
      if (outcome !== 'FAILED') return;
      // Without a sequence number the mapping cannot tell which record failed; an empty
      // identifier makes it retry the whole batch, which is the safe side.
      batchItemFailures.push({ itemIdentifier: records[index]!.dynamodb?.SequenceNumber ?? '' });
    });
    return { batchItemFailures };
  };
}
