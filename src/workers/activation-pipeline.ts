/**
 * Local mode's activation pipeline: what AWS runs for us, played on this machine with the
 * same handler code and the same state-machine file.
 *
 *   User table stream ──► StreamPoller (the event source mapping, lambdas/stream-settings)
 *     ──► user-table-trigger handler ──► StartExecution on the local Step Functions endpoint
 *     ──► .asl.json on aws-local-stepfunctions: get-activation-status, send-activation-mail
 *     ──► SES API of the local SES (aws-ses-v2-local) ──► its web inbox
 *
 * The handlers get the environment a Lambda would get, built from the app's configuration;
 * the only local part is the endpoints in it. They use the real SDK clients throughout.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import {
  GET_ACTIVATION_STATUS_FUNCTION,
  SEND_ACTIVATION_MAIL_FUNCTION,
  USER_TABLE_TRIGGER_FUNCTION,
} from '../../lambdas/functions';
import { createGetActivationStatusHandler } from '../../lambdas/get-activation-status/get-activation-status.handler';
import { createSendActivationMailHandler } from '../../lambdas/send-activation-mail/send-activation-mail.handler';
import type { LogSink } from '../../lambdas/shared/log';
import { readDefinitionTemplate, substituteDefinition } from '../../lambdas/state-machine';
import { USER_TABLE_TRIGGER_STREAM_SETTINGS } from '../../lambdas/stream-settings';
import { createUserTableTriggerHandler } from '../../lambdas/user-table-trigger/user-table-trigger.handler';
import type { AppConfig } from '../config/app-config';
import { createDynamoDbClient, createDynamoDbStreamsClient } from '../platform/aws/clients';
import { AWS_PRINCIPALS } from '../platform/aws/principals';
import { portInUse } from './dynamodb-local';
import { LOCAL_ACCOUNT_ID } from './lambda-context';
import { LocalSes } from './local-ses';
import { functionArn, LocalStepFunctions, stateMachineArn } from './step-functions';
import { StreamPoller } from './stream-poller';

export interface ActivationPipelineOptions {
  /** Checkpoint, on-failure records and executions are kept here; absent: in memory (tests). */
  readonly dataDir?: string;
  readonly logger: Logger;
  /** Replaces the state machine's Retry waits, in ms (tests). */
  readonly retryIntervalOverrides?: number;
  /** How often an idle stream shard is polled; default the poller's (100 ms). */
  readonly pollIntervalMs?: number;
}

/** The environment each Lambda gets: on AWS from the CDK stack, here from the app's config. */
export function lambdaEnvironment(
  config: AppConfig,
  endpoints: { readonly ses?: string; readonly sfn?: string },
  stepFunctionArn: string,
): Record<string, string | undefined> {
  return {
    AWS_REGION: config.dynamodb.region,
    DYNAMODB_ENDPOINT: config.dynamodb.endpoint,
    SES_ENDPOINT: endpoints.ses,
    SFN_ENDPOINT: endpoints.sfn,
    USER_TABLE_NAME: config.dynamodb.tables.users,
    USER_EMAIL_TABLE_NAME: config.dynamodb.tables.userEmails,
    STEP_FUNCTION_ARN: stepFunctionArn,
    FROM_ADDRESS: config.activation.fromAddress,
    ACTIVATION_URL_BASES: config.http.activationUrlBase,
    ACTIVATION_TOKEN_TTL_SECONDS: String(config.activation.tokenTtlSeconds),
    PASSWORD_RESET_TOKEN_TTL_SECONDS: String(config.activation.passwordResetTokenTtlSeconds),
    ACTIVATION_MAIL_LEASE_SECONDS: String(config.activation.claimLeaseSeconds),
  };
}

/** The Lambdas' JSON log lines, into the app's log with the function's name. */
function lambdaLog(logger: Logger, functionName: string): LogSink {
  const child = logger.child({ lambda: functionName });
  return ({ level, msg, ...fields }) => child[level](fields, msg);
}

export class LocalActivationPipeline {
  private constructor(
    /** Absent when SES_ENDPOINT points at an SES elsewhere. */
    readonly ses: LocalSes | undefined,
    /** Absent when SFN_ENDPOINT points at a Step Functions elsewhere. */
    readonly stepFunctions: LocalStepFunctions | undefined,
    readonly poller: StreamPoller,
    readonly stateMachineArn: string,
    private readonly closeClients: () => void,
    private readonly dataDir: string | undefined,
  ) {}

  static async start(
    config: AppConfig,
    options: ActivationPipelineOptions,
  ): Promise<LocalActivationPipeline> {
    const started: { stop(): Promise<void> }[] = [];
    // The poller plays the event source mapping, which reads the stream with the trigger
    // function's role. Finding the stream (DescribeTable) is no call of that role: on AWS,
    // CloudFormation hands the mapping the stream's ARN.
    const dynamodb = createDynamoDbClient(config.dynamodb);
    const streams = createDynamoDbStreamsClient({
      ...config.dynamodb,
      principal: AWS_PRINCIPALS.userTableTrigger,
    });
    const closeClients = () => {
      dynamodb.destroy();
      streams.destroy();
    };
    try {
      const ses = config.ses.endpoint
        ? undefined
        : await LocalSes.start(config.ses.localPort, {
            throttleRate: config.ses.localThrottleRate,
          });
      if (ses) started.push(ses);
      const sesEndpoint = config.ses.endpoint ?? ses!.endpoint;

      const machineName = config.stepFunctions.stateMachineName;
      const machineArn = stateMachineArn(config.dynamodb.region, LOCAL_ACCOUNT_ID, machineName);
      const localSfn = !config.stepFunctions.endpoint;
      // The Step Functions endpoint is known before it listens: the trigger only needs it
      // when a record arrives, and the port is fixed by configuration.
      const sfnEndpoint =
        config.stepFunctions.endpoint ?? `http://127.0.0.1:${config.stepFunctions.localPort}`;
      const env = lambdaEnvironment(config, { ses: sesEndpoint, sfn: sfnEndpoint }, machineArn);

      const stepFunctions = localSfn
        ? await startStepFunctions(config, env, machineName, options)
        : undefined;
      if (stepFunctions) started.push(stepFunctions);

      const pollerDir = options.dataDir && join(options.dataDir, 'stream-poller');
      const poller = await StreamPoller.start({
        dynamodb,
        streams,
        tableName: config.dynamodb.tables.users,
        region: config.dynamodb.region,
        settings: USER_TABLE_TRIGGER_STREAM_SETTINGS,
        functionName: USER_TABLE_TRIGGER_FUNCTION.name,
        functionTimeoutMs: USER_TABLE_TRIGGER_FUNCTION.timeoutSeconds * 1000,
        handler: createUserTableTriggerHandler(env, {
          log: lambdaLog(options.logger, USER_TABLE_TRIGGER_FUNCTION.name),
        }),
        checkpointFile: pollerDir && join(pollerDir, 'checkpoint.json'),
        failureFile: pollerDir && join(pollerDir, 'on-failure.jsonl'),
        pollIntervalMs: options.pollIntervalMs,
        logger: options.logger.child({ component: 'stream-poller' }),
      });
      return new LocalActivationPipeline(
        ses,
        stepFunctions,
        poller,
        machineArn,
        closeClients,
        options.dataDir,
      );
    } catch (error) {
      for (const part of started.reverse()) await part.stop();
      closeClients();
      throw error;
    }
  }

  /** What runs, for the start-up banner. */
  addresses(): Record<string, string> {
    return {
      ...(this.ses ? { 'SES inbox': this.ses.inboxUrl } : {}),
      ...(this.stepFunctions ? { 'Step Functions': this.stepFunctions.endpoint } : {}),
      'State machine': this.stateMachineArn,
      ...(this.dataDir
        ? { 'Failed records': join(this.dataDir, 'stream-poller', 'on-failure.jsonl') }
        : {}),
    };
  }

  /** Resolves when every record now in the stream is handled and no execution runs (tests). */
  async settled(): Promise<void> {
    await this.poller.drained();
    await this.stepFunctions?.idle();
  }

  /** Stream first (no new executions), then the executions, then SES. */
  async stop(): Promise<void> {
    await this.poller.stop();
    await this.stepFunctions?.stop();
    await this.ses?.stop();
    this.closeClients();
  }
}

async function startStepFunctions(
  config: AppConfig,
  env: Record<string, string | undefined>,
  machineName: string,
  options: ActivationPipelineOptions,
): Promise<LocalStepFunctions> {
  const region = config.dynamodb.region;
  const arnOf = (name: string) => functionArn(region, LOCAL_ACCOUNT_ID, name);
  const definition = substituteDefinition(readDefinitionTemplate(), {
    GetActivationStatusFunctionArn: arnOf(GET_ACTIVATION_STATUS_FUNCTION.name),
    SendActivationMailFunctionArn: arnOf(SEND_ACTIVATION_MAIL_FUNCTION.name),
  });
  const sfnDir = options.dataDir && join(options.dataDir, 'step-functions');
  try {
    return await LocalStepFunctions.start({
      port: config.stepFunctions.localPort,
      region,
      accountId: LOCAL_ACCOUNT_ID,
      dataDir: sfnDir,
      retryIntervalOverrides: options.retryIntervalOverrides,
      logger: options.logger.child({ component: 'step-functions' }),
      stateMachines: [
        {
          name: machineName,
          definition: JSON.parse(definition) as object,
          principal: AWS_PRINCIPALS.stateMachine,
          taskHandlers: {
            [arnOf(GET_ACTIVATION_STATUS_FUNCTION.name)]: {
              functionName: GET_ACTIVATION_STATUS_FUNCTION.name,
              timeoutSeconds: GET_ACTIVATION_STATUS_FUNCTION.timeoutSeconds,
              handler: createGetActivationStatusHandler(env),
            },
            [arnOf(SEND_ACTIVATION_MAIL_FUNCTION.name)]: {
              functionName: SEND_ACTIVATION_MAIL_FUNCTION.name,
              timeoutSeconds: SEND_ACTIVATION_MAIL_FUNCTION.timeoutSeconds,
              handler: createSendActivationMailHandler(env),
            },
          },
        },
      ],
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw portInUse(
        'The local Step Functions endpoint',
        config.stepFunctions.localPort,
        'SFN_LOCAL_PORT',
      );
    }
    throw error;
  }
}
