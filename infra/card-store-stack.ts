/**
 * The whole of card-store on AWS, in one stack: the tables, the activation pipeline
 * (stream → trigger Lambda → Standard state machine → mail Lambda → SES) and the Nest API
 * on Lambda behind an HTTP API. What runs locally as stand-ins runs here as the services
 * themselves; the code, the state-machine file and the stream settings are the same.
 *
 * Least privilege: every function has its own role with exactly the actions its code
 * calls, on exactly its resources; nothing uses a managed policy. This is proven, not
 * asserted: the tests record every AWS call each component makes and evaluate it against
 * the synthesized roles, and every grant must be exercised by a recorded call or be listed
 * in `serviceOnlyGrants` with its reason (infra/least-privilege.spec.ts). cdk-nag's
 * AwsSolutions pack runs on every synth (infra/bin) and in the tests; each suppression
 * below says why.
 */
import {
  Aws,
  CfnCondition,
  CfnOutput,
  CfnParameter,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  type StackProps,
  Token,
  Validations,
} from 'aws-cdk-lib';
import {
  CfnStage,
  HttpApi,
  HttpMethod,
  HttpRoute,
  HttpRouteKey,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  CfnAlarm,
  ComparisonOperator,
  type Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import {
  AttributeType,
  BillingMode,
  type ITable,
  StreamViewType,
  Table,
  type TableProps,
} from 'aws-cdk-lib/aws-dynamodb';
import { type IRole, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, type IFunction, Runtime, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { type BundlingOptions, NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import {
  DefinitionBody,
  LogLevel as StateMachineLogLevel,
  StateMachine,
  StateMachineType,
} from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import {
  GET_ACTIVATION_STATUS_FUNCTION,
  type PipelineFunction,
  SEND_ACTIVATION_MAIL_FUNCTION,
  USER_TABLE_TRIGGER_FUNCTION,
} from '../lambdas/functions';
import { type DefinitionSubstitutions, readDefinitionTemplate } from '../lambdas/state-machine';
import { USER_TABLE_TRIGGER_STREAM_SETTINGS } from '../lambdas/stream-settings';
import { SENDER_ADDRESS_PATTERN } from '../src/activation/activation-mail';
import { AWS_PRINCIPALS, type AwsPrincipal } from '../src/platform/aws/principals';
import {
  PENDING_ACCOUNT_TTL_ATTRIBUTE,
  RATE_LIMIT_KEY,
  RATE_LIMIT_TTL_ATTRIBUTE,
  SESSION_ACCOUNT_KEY,
  SESSION_KEY,
  SESSION_TTL_ATTRIBUTE,
  USER_EMAIL_KEY,
  USER_KEY,
} from '../src/users/persistence/user-tables';
import {
  API_BUNDLING,
  apiEntry,
  BUNDLING,
  LAMBDA_NODE_MAJOR,
  LOCK_FILE,
  REPO_ROOT,
  SOURCE_MAPS_ENVIRONMENT,
} from './lambda-bundling';

export interface CardStoreStackProps extends StackProps {
  /**
   * Keep the tables when the stack is deleted, and turn DynamoDB's deletion protection on
   * (default). `false` is for throw-away stacks: `npm run destroy` then deletes the data.
   */
  readonly retainData?: boolean;
  /**
   * The Spring app's User table, to run on in place (docs/taking-over-the-spring-app.md):
   * the stack makes no User table of its own, and its functions, grants and stream
   * trigger use this one. It needs a NEW_IMAGE stream (its ARN here) and, for abandoned
   * sign-ups to expire, TTL on `expiresAt`; the stack changes neither.
   */
  readonly existingUserTable?: { readonly tableName: string; readonly streamArn: string };
}

/**
 * A grant that no call of our code exercises, because AWS itself makes the call with the
 * component's role (the Lambda runtime's logging, the event source mapping, the state
 * machine's log delivery); the reason says which.
 */
export interface ServiceOnlyGrant {
  readonly principal: AwsPrincipal;
  readonly actions: readonly string[];
  readonly reason: string;
}

/** The API Lambda's timeout; API Gateway's own limit for an HTTP API is 30 s. */
export const API_TIMEOUT_SECONDS = 29;

/**
 * Requests per second (steady, burst) the HTTP API passes on, for all clients together;
 * more get API Gateway's 429. The outer fence: per-client limits are the app's
 * (src/platform/rate-limits), counted in DynamoDB.
 */
export const API_THROTTLE = { rateLimit: 50, burstLimit: 100 } as const;

/**
 * Tighter fences for the routes that cost an Argon2id hash (19 MiB, ~0.1 s of a 1 GB
 * Lambda's CPU) per request: a flood of sign-ins or registrations then takes at most
 * this share of the stage, and the other routes (activation links, /users/me, /health)
 * stay reachable. (`POST /activate` checks the account's password; `GET /activate`, the
 * link's page, stays on the stage's fence.)
 */
export const ROUTE_THROTTLES = {
  'POST /users': { rateLimit: 10, burstLimit: 20 },
  'POST /login': { rateLimit: 20, burstLimit: 40 },
  'POST /activate': { rateLimit: 20, burstLimit: 40 },
  // No hash, but every accepted request may send a mail.
  'POST /activation-mail': { rateLimit: 10, burstLimit: 20 },
  'POST /password-reset': { rateLimit: 10, burstLimit: 20 },
  // A hash of the new password per accepted link.
  'POST /password-reset/new': { rateLimit: 10, burstLimit: 20 },
  'POST /users/me/password': { rateLimit: 10, burstLimit: 20 },
} as const;

const LOG_RETENTION = RetentionDays.ONE_MONTH;

/** What CloudWatch Logs keeps of each API request; no query string (tokens), no body. */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    ip: '$context.identity.sourceIp',
    requestTime: '$context.requestTime',
    method: '$context.httpMethod',
    path: '$context.path',
    status: '$context.status',
    protocol: '$context.protocol',
    responseLength: '$context.responseLength',
    integrationLatency: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
  }),
);

export class CardStoreStack extends Stack {
  readonly userTable: ITable;
  readonly userEmailTable: Table;
  readonly sessionTable: Table;
  readonly rateLimitTable: Table;
  readonly stateMachine: StateMachine;
  readonly onFailureQueue: Queue;
  readonly api: HttpApi;
  readonly functions: {
    readonly userTableTrigger: NodejsFunction;
    readonly getActivationStatus: NodejsFunction;
    readonly sendActivationMail: NodejsFunction;
    readonly api: NodejsFunction;
  };
  /** The role each component's calls are made with. */
  readonly roles: Readonly<Record<AwsPrincipal, IRole>>;
  readonly serviceOnlyGrants: ServiceOnlyGrant[] = [];

  constructor(scope: Construct, id: string, props: CardStoreStackProps = {}) {
    super(scope, id, props);
    const retainData = props.retainData ?? true;

    // ---- Parameters: what differs per account and is only needed at run time. ----
    const fromAddress = new CfnParameter(this, 'FromAddress', {
      type: 'String',
      description:
        'Sender of activation mails: "no-reply@example.org" or "Digital Card Store <no-reply@example.org>". Its address must belong to SesIdentity.',
      allowedPattern: SENDER_ADDRESS_PATTERN.source,
      constraintDescription: 'must be addr@domain or Display Name <addr@domain>, on one line',
    });
    const sesIdentity = new CfnParameter(this, 'SesIdentity', {
      type: 'String',
      description:
        'The verified SES identity the mails are sent as: the sender domain (example.org) or, if the address itself is verified, that address. Only this identity may be used.',
      allowedPattern: '^([^\\s@]+@)?[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+$',
      constraintDescription: 'must be a domain (example.org) or an address (no-reply@example.org)',
    });
    const publicBaseUrl = new CfnParameter(this, 'PublicBaseUrl', {
      type: 'String',
      default: '',
      description:
        'Where people reach the API, e.g. https://cards.example.org (a custom domain you map to the HTTP API). Empty: the HTTP API URL.',
      allowedPattern: '^(https://[^\\s/?#]+)?$',
      constraintDescription: 'must be empty or an https:// origin without path',
    });
    const extraActivationUrlBases = new CfnParameter(this, 'ExtraActivationUrlBases', {
      type: 'String',
      default: '',
      description:
        "More activation link bases the mail Lambda accepts, comma-separated, e.g. http://localhost:3000/activate for an API run locally against this stack. Empty: only the API's own.",
      allowedPattern: '^(https?://[^\\s,?#]+(,https?://[^\\s,?#]+)*)?$',
      constraintDescription: 'must be empty or comma-separated http(s) URLs without query',
    });
    const alarmTopicArn = new CfnParameter(this, 'AlarmTopicArn', {
      type: 'String',
      default: '',
      description: 'SNS topic the alarms notify. Empty: the alarms only change state.',
      allowedPattern: '^(arn:aws[a-z-]*:sns:[a-z0-9-]+:\\d{12}:[A-Za-z0-9_-]+)?$',
    });

    // ---- Tables: the same keys, stream and TTL as src/users/persistence/user-tables.ts. ----
    const tableDefaults: Partial<TableProps> = {
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: retainData,
      removalPolicy: retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    };
    this.userTable = props.existingUserTable
      ? Table.fromTableAttributes(this, 'UserTable', {
          tableName: props.existingUserTable.tableName,
          tableStreamArn: props.existingUserTable.streamArn,
        })
      : new Table(this, 'UserTable', {
          ...tableDefaults,
          partitionKey: { name: USER_KEY, type: AttributeType.STRING },
          stream: StreamViewType.NEW_IMAGE,
          // Abandoned sign-ups; the deletions reach the stream as REMOVE, which starts no mail.
          timeToLiveAttribute: PENDING_ACCOUNT_TTL_ATTRIBUTE,
        });
    this.userEmailTable = new Table(this, 'UserEmailTable', {
      ...tableDefaults,
      partitionKey: { name: USER_EMAIL_KEY, type: AttributeType.STRING },
      timeToLiveAttribute: PENDING_ACCOUNT_TTL_ATTRIBUTE,
    });
    // Sessions under their account (so that all of an account's sessions can be ended).
    // The keys changed from `sessionIdHash` alone: CloudFormation replaces the table on
    // update, and everyone signs in once more.
    this.sessionTable = new Table(this, 'UserSessionTable', {
      ...tableDefaults,
      partitionKey: { name: SESSION_ACCOUNT_KEY, type: AttributeType.STRING },
      sortKey: { name: SESSION_KEY, type: AttributeType.STRING },
      timeToLiveAttribute: SESSION_TTL_ATTRIBUTE,
    });
    this.rateLimitTable = new Table(this, 'RateLimitTable', {
      ...tableDefaults,
      partitionKey: { name: RATE_LIMIT_KEY, type: AttributeType.STRING },
      timeToLiveAttribute: RATE_LIMIT_TTL_ATTRIBUTE,
    });

    // ---- The HTTP API first: its URL goes into the links, hence into two functions. ----
    this.api = new HttpApi(this, 'Api', {
      description: 'card-store: registration, activation links, sign-in',
      createDefaultStage: false,
    });
    const accessLogs = this.logGroup('ApiAccessLogs');
    const stage = new HttpStage(this, 'ApiDefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: API_THROTTLE,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: ACCESS_LOG_FORMAT,
      },
    });
    const customUrl = this.isSet('HasPublicBaseUrl', publicBaseUrl);
    const baseUrl = Token.asString(
      Fn.conditionIf(customUrl.logicalId, publicBaseUrl.valueAsString, this.api.apiEndpoint),
    );
    const activationUrlBase = `${baseUrl}/activate`;

    // ---- The activation pipeline's functions. ----
    const getActivationStatus = this.pipelineFunction(GET_ACTIVATION_STATUS_FUNCTION, {
      USER_TABLE_NAME: this.userTable.tableName,
    });
    this.allow(getActivationStatus, ['dynamodb:GetItem'], [this.userTable.tableArn]);

    const sendActivationMail = this.pipelineFunction(SEND_ACTIVATION_MAIL_FUNCTION, {
      USER_TABLE_NAME: this.userTable.tableName,
      FROM_ADDRESS: fromAddress.valueAsString,
      ACTIVATION_URL_BASES: Fn.join(',', [
        activationUrlBase,
        extraActivationUrlBases.valueAsString,
      ]),
    });
    this.allow(
      sendActivationMail,
      ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      [this.userTable.tableArn],
    );
    this.allow(
      sendActivationMail,
      ['ses:SendEmail'],
      [
        `arn:${Aws.PARTITION}:ses:${Aws.REGION}:${Aws.ACCOUNT_ID}:identity/${sesIdentity.valueAsString}`,
      ],
    );

    // ---- The state machine: the same .asl.json the local runner executes. ----
    const substitutions: DefinitionSubstitutions = {
      GetActivationStatusFunctionArn: getActivationStatus.functionArn,
      SendActivationMailFunctionArn: sendActivationMail.functionArn,
    };
    const stateMachineRole = new Role(this, 'StateMachineRole', {
      assumedBy: new ServicePrincipal('states.amazonaws.com'),
      description: 'Runs the activation-mail state machine: invokes its two task functions.',
    });
    // Exactly the two unqualified ARNs the definition names; no version or alias wildcard.
    stateMachineRole.addToPolicy(
      new PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [getActivationStatus.functionArn, sendActivationMail.functionArn],
      }),
    );
    this.serviceOnlyGrants.push({
      principal: AWS_PRINCIPALS.stateMachine,
      actions: [
        'logs:CreateLogDelivery',
        'logs:DeleteLogDelivery',
        'logs:DescribeLogGroups',
        'logs:DescribeResourcePolicies',
        'logs:GetLogDelivery',
        'logs:ListLogDeliveries',
        'logs:PutResourcePolicy',
        'logs:UpdateLogDelivery',
        'xray:GetSamplingRules',
        'xray:GetSamplingTargets',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ],
      reason:
        'Step Functions delivers the execution log to CloudWatch Logs and the traces to X-Ray itself (CDK grants these for `logs` and `tracingEnabled`); the local runner keeps its history in memory.',
    });
    Validations.of(stateMachineRole).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray (PutTraceSegments, PutTelemetryRecords, GetSampling*) and the CloudWatch Logs delivery actions a state machine needs for logging have no resource-level permissions. Lambda invocation names its two functions.',
    });
    this.stateMachine = new StateMachine(this, 'SendUserActivationMail', {
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromString(readDefinitionTemplate()),
      definitionSubstitutions: { ...substitutions },
      role: stateMachineRole,
      tracingEnabled: true,
      logs: {
        destination: this.logGroup('StateMachineLogs', '/aws/vendedlogs/states/'),
        level: StateMachineLogLevel.ALL,
        // Execution data: the username, its status and, after a failure, the task's error
        // (an SES refusal can name the recipient's address). No token, no mail body. Kept
        // as long as the functions' own logs, which hold the same.
        includeExecutionData: true,
      },
    });

    // ---- The stream trigger, with the settings the local poller plays. ----
    this.onFailureQueue = new Queue(this, 'TriggerOnFailureQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.onFailureQueue).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead end: the on-failure destination of the stream trigger. Its messages are read by an operator (README) and have nowhere further to go.',
    });
    const userTableTrigger = this.pipelineFunction(USER_TABLE_TRIGGER_FUNCTION, {
      STEP_FUNCTION_ARN: this.stateMachine.stateMachineArn,
    });
    this.allow(userTableTrigger, ['states:StartExecution'], [this.stateMachine.stateMachineArn]);
    this.serviceOnlyGrants.push(
      {
        principal: AWS_PRINCIPALS.userTableTrigger,
        actions: ['dynamodb:ListStreams'],
        reason:
          "Lambda's event source mapping lists the table's streams itself (AWSLambdaDynamoDBExecutionRole has it); the local poller is handed the stream as CloudFormation hands it to the mapping.",
      },
      {
        principal: AWS_PRINCIPALS.userTableTrigger,
        actions: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
        reason:
          "The event source mapping's on-failure destination: Lambda sends what it gives up on to the queue with the function's role (the local poller writes on-failure.jsonl).",
      },
    );
    Validations.of(userTableTrigger.role!).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'dynamodb:ListStreams, which the event source mapping adds, has no resource-level permissions; everything else in this policy names its resource.',
    });
    const stream = USER_TABLE_TRIGGER_STREAM_SETTINGS;
    userTableTrigger.addEventSource(
      new DynamoEventSource(this.userTable, {
        startingPosition: StartingPosition[stream.startingPosition],
        batchSize: stream.batchSize,
        maxBatchingWindow: Duration.seconds(stream.maximumBatchingWindowInSeconds),
        bisectBatchOnError: stream.bisectBatchOnFunctionError,
        retryAttempts: stream.retryAttempts,
        maxRecordAge: Duration.seconds(stream.maximumRecordAgeSeconds),
        reportBatchItemFailures: stream.reportBatchItemFailures,
        parallelizationFactor: stream.parallelizationFactor,
        filters: stream.filterPatterns.map((pattern) => ({ pattern })),
        onFailure: new SqsDlq(this.onFailureQueue),
      }),
    );

    // ---- The Nest API on Lambda. ----
    const apiFunction = this.nodeFunction('ApiFunction', AWS_PRINCIPALS.api, {
      entry: apiEntry(),
      description: 'card-store API: the Nest app (src/lambda.ts) behind the HTTP API',
      timeoutSeconds: API_TIMEOUT_SECONDS,
      // Argon2id (19 MiB, 2 passes) per registration and sign-in wants CPU, which Lambda
      // gives in proportion to memory.
      memorySize: 1024,
      bundling: API_BUNDLING,
      environment: {
        CARD_STORE_MODE: 'aws',
        USER_TABLE_NAME: this.userTable.tableName,
        USER_EMAIL_TABLE_NAME: this.userEmailTable.tableName,
        SESSION_TABLE_NAME: this.sessionTable.tableName,
        RATE_LIMIT_TABLE_NAME: this.rateLimitTable.tableName,
        PUBLIC_BASE_URL: baseUrl,
        LOG_LEVEL: 'info',
      },
    });
    this.allow(
      apiFunction,
      // GetItem: registration's read, sign-in, status; PutItem: the registration
      // transaction (user + email) and the typo fix; UpdateItem: activation, mail requests
      // (resend, notices, password reset), password changes; DeleteItem: the pending
      // account a registration replaces (dynamodb-user-store.ts); ConditionCheckItem: a
      // new session's check that the password it verified is still the account's
      // (dynamodb-session-store.ts).
      [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:ConditionCheckItem',
      ],
      [this.userTable.tableArn],
    );
    // GetItem: registration and resend read whose an address is; PutItem: the email claim;
    // ConditionCheckItem: the registration transaction's check that no claim is stored
    // under the address's old key, and the sign-up notice's that the address is still the
    // owner's; UpdateItem: activation removes the claim's pending expiry; DeleteItem: the
    // typo fix gives the old address up (dynamodb-user-store.ts).
    this.allow(
      apiFunction,
      [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:ConditionCheckItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
      ],
      [this.userEmailTable.tableArn],
    );
    // BatchGetItem: a session and its account's "sessions ended" marker in one read;
    // GetItem: the marker's generation a sign-in reads; PutItem + ConditionCheckItem: a new
    // session, in a transaction that checks the generation is still the one read;
    // UpdateItem: the next generation (sign-out everywhere, and a password change's
    // transaction); DeleteItem: sign-out; Query + BatchWriteItem: the clean-up of an
    // account's ended sessions (dynamodb-session-store.ts).
    this.allow(
      apiFunction,
      [
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:ConditionCheckItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:Query',
        'dynamodb:BatchWriteItem',
      ],
      [this.sessionTable.tableArn],
    );
    // The rate limits' counters: one conditional UpdateItem per limit and request
    // (src/platform/rate-limits/dynamodb-throttler-storage.ts).
    this.allow(apiFunction, ['dynamodb:UpdateItem'], [this.rateLimitTable.tableArn]);
    // $default: every method and path, the root included, goes to Nest, which answers 404
    // itself for what it does not route. The throttled routes go to the same function;
    // they exist only so that API Gateway can throttle them on their own.
    const integration = new HttpLambdaIntegration('ApiIntegration', apiFunction);
    const routes = [
      new HttpRoute(this, 'ApiDefaultRoute', {
        httpApi: this.api,
        routeKey: HttpRouteKey.DEFAULT,
        integration,
      }),
      ...Object.keys(ROUTE_THROTTLES).map((routeKey) => {
        const [method, path] = routeKey.split(' ') as [keyof typeof HttpMethod, string];
        return new HttpRoute(this, `ApiRoute${method}${path.replaceAll('/', '_')}`, {
          httpApi: this.api,
          routeKey: HttpRouteKey.with(path, HttpMethod[method]),
          integration,
        });
      }),
    ];
    for (const route of routes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions::AwsSolutions-APIG4',
        reason:
          'A public sign-up API: registration, activation links and sign-in are for people without credentials; the app authenticates /users/me itself (session cookie). The stage throttles every route.',
      });
    }
    const cfnStage = stage.node.defaultChild as CfnStage;
    cfnStage.routeSettings = Object.fromEntries(
      Object.entries(ROUTE_THROTTLES).map(([routeKey, throttle]) => [
        routeKey,
        { ThrottlingRateLimit: throttle.rateLimit, ThrottlingBurstLimit: throttle.burstLimit },
      ]),
    );
    for (const route of routes) cfnStage.node.addDependency(route);
    this.functions = {
      userTableTrigger,
      getActivationStatus,
      sendActivationMail,
      api: apiFunction,
    };
    this.roles = {
      [AWS_PRINCIPALS.api]: apiFunction.role!,
      [AWS_PRINCIPALS.userTableTrigger]: userTableTrigger.role!,
      [AWS_PRINCIPALS.getActivationStatus]: getActivationStatus.role!,
      [AWS_PRINCIPALS.sendActivationMail]: sendActivationMail.role!,
      [AWS_PRINCIPALS.stateMachine]: stateMachineRole,
    };

    // ---- Alarms: records the trigger gave up on, executions that failed. ----
    const alarms = [
      this.alarmOnAny(
        'TriggerOnFailureAlarm',
        'Registrations whose stream records the trigger gave up on (in the on-failure queue): these users got no mail.',
        this.onFailureQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum' }),
      ),
      this.alarmOnAny(
        'ExecutionsFailedAlarm',
        'Activation-mail executions that failed (a task error left after its retries): these users got no mail.',
        this.stateMachine.metricFailed({ statistic: 'Sum' }),
      ),
      this.alarmOnAny(
        'ExecutionsTimedOutAlarm',
        'Activation-mail executions that timed out: these users may have got no mail.',
        this.stateMachine.metricTimedOut({ statistic: 'Sum' }),
      ),
    ];
    const notify = this.isSet('HasAlarmTopic', alarmTopicArn);
    for (const alarm of alarms) {
      (alarm.node.defaultChild as CfnAlarm).alarmActions = Token.asList(
        Fn.conditionIf(notify.logicalId, [alarmTopicArn.valueAsString], Aws.NO_VALUE),
      );
      Validations.of(alarm).acknowledge({
        id: 'CloudFormation-Validate::W1030',
        reason:
          'The topic ARN is used only under HasAlarmTopic, that is when it is not empty; the linter does not follow the condition.',
      });
    }

    new CfnOutput(this, 'ApiUrl', { value: baseUrl, description: 'The API (PUBLIC_BASE_URL)' });
    new CfnOutput(this, 'HttpApiEndpoint', {
      value: this.api.apiEndpoint,
      description: "The HTTP API's own endpoint (where a custom domain must point)",
    });
    new CfnOutput(this, 'UserTableName', { value: this.userTable.tableName });
    new CfnOutput(this, 'UserEmailTableName', { value: this.userEmailTable.tableName });
    new CfnOutput(this, 'SessionTableName', { value: this.sessionTable.tableName });
    new CfnOutput(this, 'RateLimitTableName', { value: this.rateLimitTable.tableName });
    new CfnOutput(this, 'StateMachineArn', { value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, 'OnFailureQueueUrl', { value: this.onFailureQueue.queueUrl });
  }

  /** A condition, named `id`, that holds when the optional `parameter` was given a value. */
  private isSet(id: string, parameter: CfnParameter): CfnCondition {
    return new CfnCondition(this, id, {
      expression: Fn.conditionNot(Fn.conditionEquals(parameter.valueAsString, '')),
    });
  }

  /** An alarm that fires when `metric` reaches 1 in a 5-minute period. */
  private alarmOnAny(id: string, description: string, metric: Metric): Alarm {
    return new Alarm(this, id, {
      alarmDescription: description,
      metric: metric.with({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  /** A log group owned by the stack, with the retention every log group here has. */
  private logGroup(id: string, prefix?: string): LogGroup {
    return new LogGroup(this, id, {
      ...(prefix ? { logGroupName: `${prefix}${Stack.of(this).stackName}-${id}` } : {}),
      retention: LOG_RETENTION,
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }

  private pipelineFunction(fn: PipelineFunction, environment: Record<string, string>) {
    return this.nodeFunction(pascalCase(fn.name), fn.name, {
      entry: fn.entry,
      description: `card-store activation pipeline: ${fn.name} (lambdas/${fn.name})`,
      timeoutSeconds: fn.timeoutSeconds,
      memorySize: 256,
      bundling: BUNDLING,
      environment,
    });
  }

  /**
   * A function with its own role and log group: the role may write to that log group and
   * nothing else until `allow` adds what the code calls.
   */
  private nodeFunction(
    id: string,
    principal: AwsPrincipal,
    options: {
      readonly entry: string;
      readonly description: string;
      readonly timeoutSeconds: number;
      readonly memorySize: number;
      readonly environment: Record<string, string>;
      readonly bundling: BundlingOptions;
    },
  ): NodejsFunction {
    const logGroup = this.logGroup(`${id}Logs`);
    const role = new Role(this, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `card-store ${id}: its log group and exactly the calls its code makes`,
    });
    const logActions = ['logs:CreateLogStream', 'logs:PutLogEvents'];
    role.addToPolicy(
      new PolicyStatement({ actions: logActions, resources: [logGroup.logGroupArn] }),
    );
    this.serviceOnlyGrants.push({
      principal,
      actions: logActions,
      reason: "The Lambda runtime writes the function's output to its log group.",
    });
    const runtime = Runtime[`NODEJS_${LAMBDA_NODE_MAJOR}_X`];
    return new NodejsFunction(this, id, {
      entry: options.entry,
      handler: 'handler',
      runtime,
      architecture: Architecture.ARM_64,
      memorySize: options.memorySize,
      timeout: Duration.seconds(options.timeoutSeconds),
      description: options.description,
      environment: {
        ...options.environment,
        ...(options.bundling.sourceMap ? SOURCE_MAPS_ENVIRONMENT : {}),
      },
      bundling: options.bundling,
      projectRoot: REPO_ROOT,
      depsLockFilePath: LOCK_FILE,
      role,
      logGroup,
    });
  }

  private allow(fn: IFunction, actions: string[], resources: string[]): void {
    fn.addToRolePolicy(new PolicyStatement({ actions, resources }));
  }
}

function pascalCase(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_match, _dash, letter: string) => letter.toUpperCase());
}
