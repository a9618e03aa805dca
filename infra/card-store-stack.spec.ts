/**
 * The synthesized template, asserted property by property against the modules the local
 * mode runs (tables, functions, state machine, stream settings), plus cdk-nag. Bundling is
 * skipped here (`aws:cdk:bundling-stacks`); infra/lambda-bundles.spec.ts bundles for real.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import {
  GET_ACTIVATION_STATUS_FUNCTION,
  SEND_ACTIVATION_MAIL_FUNCTION,
  USER_TABLE_TRIGGER_FUNCTION,
} from '../lambdas/functions';
import { createGetActivationStatusHandler } from '../lambdas/get-activation-status/get-activation-status.handler';
import { createSendActivationMailHandler } from '../lambdas/send-activation-mail/send-activation-mail.handler';
import { readDefinitionTemplate, substituteDefinition } from '../lambdas/state-machine';
import { USER_TABLE_TRIGGER_STREAM_SETTINGS } from '../lambdas/stream-settings';
import { createUserTableTriggerHandler } from '../lambdas/user-table-trigger/user-table-trigger.handler';
import { loadConfig } from '../src/config/app-config';
import { userTableDefinitions } from '../src/users/persistence/user-tables';
import { API_THROTTLE, API_TIMEOUT_SECONDS, ROUTE_THROTTLES } from './card-store-stack';
import {
  deployedEnvironment,
  removeSynthesized,
  synthesizeWithoutBundling as synthesize,
} from './testing/synthesized-app';

type Json = Record<string, unknown>;
interface Resource {
  readonly Type: string;
  // CloudFormation JSON, read path by path; a wrong path fails the assertion that reads it.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly Properties: Record<string, any>;
  readonly DeletionPolicy?: string;
  readonly DependsOn?: string[];
}

afterAll(removeSynthesized);

const { stack, template, outdir } = synthesize();
const resources = template.toJSON().Resources as Record<string, Resource>;
const logicalId = (construct: IConstruct) =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);
const getAtt = (construct: IConstruct, attribute = 'Arn') => ({
  'Fn::GetAtt': [logicalId(construct), attribute],
});
const ofType = (type: string) =>
  Object.entries(resources).filter(([, resource]) => resource.Type === type);

describe('cdk-nag AwsSolutions', () => {
  it('finds no error left in the stack (every acknowledgement carries its reason)', () => {
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; violations: { severity: string }[] }[];
    };
    const errors = report.pluginReports.flatMap((plugin) =>
      plugin.violations.filter((violation) => violation.severity === 'error'),
    );
    expect(report.pluginReports.map((plugin) => plugin.pluginName)).toContain('AwsSolutions');
    expect(errors).toEqual([]);
  });

  it('fails the synth on a finding nobody acknowledged', () => {
    expect(() =>
      synthesize({}, (stack) => new Queue(stack, 'PlainTextProbe', { enforceSSL: false })),
    ).toThrow(/AwsSolutions-SQS4/);
  });
});

describe('tables', () => {
  const tables = ofType('AWS::DynamoDB::Table').map(([, table]) => table);
  const definitions = userTableDefinitions({
    users: 'u',
    userEmails: 'e',
    sessions: 's',
    rateLimits: 'r',
  });

  it('mirror the local tables: keys, billing, the User stream and the session TTL', () => {
    const shapes = tables.map(({ Properties: p }) => ({
      key: p.KeySchema,
      attributes: p.AttributeDefinitions,
      billing: p.BillingMode,
      stream: p.StreamSpecification?.StreamViewType,
      ttl: p.TimeToLiveSpecification,
    }));
    const expected = definitions.map(({ create, ttlAttribute }) => ({
      key: create.KeySchema,
      attributes: create.AttributeDefinitions,
      billing: create.BillingMode,
      stream: create.StreamSpecification?.StreamViewType,
      ttl: ttlAttribute ? { AttributeName: ttlAttribute, Enabled: true } : undefined,
    }));
    expect(shapes).toEqual(expect.arrayContaining(expected));
    expect(shapes).toHaveLength(expected.length);
  });

  it('have point-in-time recovery, and are retained and deletion-protected by default', () => {
    for (const table of tables) {
      expect(table.Properties.PointInTimeRecoverySpecification).toEqual({
        PointInTimeRecoveryEnabled: true,
      });
      expect(table.Properties.DeletionProtectionEnabled).toBe(true);
      expect(table.DeletionPolicy).toBe('Retain');
    }
  });

  it('are deleted with the stack and unprotected when retainData is false', () => {
    const throwAway = synthesize({ retainData: 'false' }).template;
    const all = Object.values(throwAway.findResources('AWS::DynamoDB::Table'));
    expect(all).toHaveLength(4);
    for (const table of all) {
      expect(table.DeletionPolicy).toBe('Delete');
      expect(table.Properties.DeletionProtectionEnabled).toBe(false);
    }
  });
});

describe("on the Spring app's existing User table (userTableName, userTableStreamArn)", () => {
  const STREAM =
    'arn:aws:dynamodb:eu-west-1:123456789012:table/User/stream/2017-03-01T10:00:00.000';
  const inPlace = () => synthesize({ userTableName: 'User', userTableStreamArn: STREAM }).template;

  it('makes no User table, triggers on the given stream and grants on the given table', () => {
    const template = inPlace();
    const tables = Object.values(template.findResources('AWS::DynamoDB::Table'));
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));

    expect(tables).toHaveLength(3);
    expect(tables.map((table) => table.Properties.KeySchema[0].AttributeName).sort()).toEqual([
      'email',
      'limitKey',
      'username',
    ]);
    expect(mappings.map((mapping) => mapping.Properties.EventSourceArn)).toEqual([STREAM]);
    expect(policies).toContain(':table/User"');
    expect(policies).not.toMatch(/UserTable[A-F0-9]{8}/);
  });

  it('refuses one without the other', () => {
    expect(() => synthesize({ userTableName: 'User' })).toThrow(/together/);
  });
});

describe('functions', () => {
  const pipeline = [
    [USER_TABLE_TRIGGER_FUNCTION, () => stack.functions.userTableTrigger],
    [GET_ACTIVATION_STATUS_FUNCTION, () => stack.functions.getActivationStatus],
    [SEND_ACTIVATION_MAIL_FUNCTION, () => stack.functions.sendActivationMail],
  ] as const;

  it('are four, on Node.js 24, arm64, each logging to its own log group kept 30 days', () => {
    const functions = ofType('AWS::Lambda::Function').map(([, fn]) => fn.Properties);
    expect(functions).toHaveLength(4);
    const logGroups = new Set<string>();
    for (const fn of functions) {
      expect(fn).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
      });
      // source maps for the pipeline; the API's would cost 300 ms per cold start
      expect(fn.Environment.Variables.NODE_OPTIONS).toBe(
        fn.Environment.Variables.CARD_STORE_MODE === 'aws' ? undefined : '--enable-source-maps',
      );
      const group = fn.LoggingConfig.LogGroup.Ref as string;
      expect(resources[group]).toMatchObject({
        Type: 'AWS::Logs::LogGroup',
        Properties: { RetentionInDays: 30 },
      });
      logGroups.add(group);
    }
    expect(logGroups.size).toBe(4);
  });

  it.each(pipeline.map(([fn, construct]) => [fn.name, fn.timeoutSeconds, construct]))(
    '%s has the timeout of lambdas/functions.ts (%i s)',
    (_name, timeout, construct) => {
      expect(resources[logicalId(construct())]!.Properties.Timeout).toBe(timeout);
    },
  );

  it('the API has its own timeout, under API Gateway’s 30 s', () => {
    expect(resources[logicalId(stack.functions.api)]!.Properties.Timeout).toBe(API_TIMEOUT_SECONDS);
    expect(API_TIMEOUT_SECONDS).toBeLessThan(30);
  });

  /**
   * The environment each function gets, with what CloudFormation resolves at deploy time
   * (references, joins) replaced by a plausible value, plus AWS_REGION, which Lambda sets.
   */
  function environmentOf(construct: IConstruct): Record<string, string> {
    const variables = resources[logicalId(construct)]!.Properties.Environment.Variables as Json;
    const deployTime: Record<string, string> = {
      USER_TABLE_NAME: 'CardStore-UserTable-1ABC',
      USER_EMAIL_TABLE_NAME: 'CardStore-UserEmailTable-1ABC',
      SESSION_TABLE_NAME: 'CardStore-UserSessionTable-1ABC',
      RATE_LIMIT_TABLE_NAME: 'CardStore-RateLimitTable-1ABC',
      STEP_FUNCTION_ARN:
        'arn:aws:states:eu-west-1:123456789012:stateMachine:SendUserActivationMail-abc',
      FROM_ADDRESS: 'Digital Card Store <no-reply@example.org>',
      ACTIVATION_URL_BASES: 'https://abc123.execute-api.eu-west-1.amazonaws.com/activate,',
      PUBLIC_BASE_URL: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
    };
    return { AWS_REGION: 'eu-west-1', ...deployedEnvironment(variables, deployTime) };
  }

  it('give each pipeline handler every variable its fail-fast env check requires', () => {
    const factories = [
      [stack.functions.userTableTrigger, createUserTableTriggerHandler],
      [stack.functions.getActivationStatus, createGetActivationStatusHandler],
      [stack.functions.sendActivationMail, createSendActivationMailHandler],
    ] as const;
    for (const [construct, create] of factories) {
      const env = environmentOf(construct);
      expect(() => create(env)).not.toThrow();
      // and the check is real: without the variables it fails the cold start
      expect(() => create({})).toThrow(expect.objectContaining({ name: 'LambdaEnvError' }));
    }
  });

  it('give the API an AWS-mode configuration with the stack’s tables and URL', () => {
    const config = loadConfig(environmentOf(stack.functions.api));
    expect(config).toMatchObject({
      mode: 'aws',
      dynamodb: {
        region: 'eu-west-1',
        tables: {
          users: 'CardStore-UserTable-1ABC',
          userEmails: 'CardStore-UserEmailTable-1ABC',
          sessions: 'CardStore-UserSessionTable-1ABC',
        },
      },
      http: { activationUrlBase: 'https://abc123.execute-api.eu-west-1.amazonaws.com/activate' },
      session: { secureCookie: true },
    });
    expect(config.dynamodb.endpoint).toBeUndefined();
  });

  it('links the mails to the API URL, or to PublicBaseUrl when one is given', () => {
    const baseUrl = {
      'Fn::If': ['HasPublicBaseUrl', { Ref: 'PublicBaseUrl' }, getAtt(stack.api, 'ApiEndpoint')],
    };
    const envOf = (construct: IConstruct) =>
      resources[logicalId(construct)]!.Properties.Environment.Variables;
    expect(envOf(stack.functions.api).PUBLIC_BASE_URL).toEqual(baseUrl);
    expect(envOf(stack.functions.sendActivationMail).ACTIVATION_URL_BASES).toEqual({
      'Fn::Join': [
        ',',
        [{ 'Fn::Join': ['', [baseUrl, '/activate']] }, { Ref: 'ExtraActivationUrlBases' }],
      ],
    });
  });
});

describe('the state machine', () => {
  const [[, machine]] = ofType('AWS::StepFunctions::StateMachine') as [[string, Resource]];

  it('is a Standard workflow, logged (ALL) and traced', () => {
    expect(machine.Properties.StateMachineType).toBe('STANDARD');
    expect(machine.Properties.LoggingConfiguration).toMatchObject({
      Level: 'ALL',
      IncludeExecutionData: true,
    });
    expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: true });
  });

  it('is defined by the very .asl.json the local runner executes, with ARNs substituted', () => {
    expect(machine.Properties.DefinitionString).toBe(readDefinitionTemplate());
    expect(machine.Properties.DefinitionSubstitutions).toEqual({
      GetActivationStatusFunctionArn: getAtt(stack.functions.getActivationStatus),
      SendActivationMailFunctionArn: getAtt(stack.functions.sendActivationMail),
    });
    const deployed = JSON.parse(
      substituteDefinition(machine.Properties.DefinitionString as string, {
        GetActivationStatusFunctionArn: 'arn:aws:lambda:eu-west-1:1:function:get',
        SendActivationMailFunctionArn: 'arn:aws:lambda:eu-west-1:1:function:send',
      }),
    );
    expect(deployed.States.GetActivationStatus.Resource).toBe(
      'arn:aws:lambda:eu-west-1:1:function:get',
    );
    expect(deployed.States.SendActivationMail.Resource).toBe(
      'arn:aws:lambda:eu-west-1:1:function:send',
    );
  });
});

describe('the stream trigger', () => {
  it('has the event source mapping settings the local poller plays', () => {
    const settings = USER_TABLE_TRIGGER_STREAM_SETTINGS;
    const mappings = ofType('AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(1);
    expect(mappings[0]![1].Properties).toEqual({
      EventSourceArn: getAtt(stack.userTable, 'StreamArn'),
      FunctionName: { Ref: logicalId(stack.functions.userTableTrigger) },
      StartingPosition: settings.startingPosition,
      BatchSize: settings.batchSize,
      MaximumBatchingWindowInSeconds: settings.maximumBatchingWindowInSeconds,
      BisectBatchOnFunctionError: settings.bisectBatchOnFunctionError,
      MaximumRetryAttempts: settings.retryAttempts,
      MaximumRecordAgeInSeconds: settings.maximumRecordAgeSeconds,
      FunctionResponseTypes: settings.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
      ParallelizationFactor: settings.parallelizationFactor,
      FilterCriteria: { Filters: settings.filterPatterns.map((Pattern) => ({ Pattern })) },
      DestinationConfig: { OnFailure: { Destination: getAtt(stack.onFailureQueue) } },
    });
  });

  it('sends what it gives up on to an encrypted, SSL-only queue kept 14 days', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });
});

describe('the HTTP API', () => {
  it('sends every request ($default) to the Nest function, payload format 2.0', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$default' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: getAtt(stack.functions.api),
    });
  });

  it('has a route of its own, to the same function, for each route throttled on its own', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, route]) => route.Properties);
    expect(routes.map((route) => route.RouteKey).sort()).toEqual(
      ['$default', ...Object.keys(ROUTE_THROTTLES)].sort(),
    );
    expect(new Set(routes.map((route) => JSON.stringify(route.Target))).size).toBe(1);
    const [[, stage]] = ofType('AWS::ApiGatewayV2::Stage') as [[string, Resource]];
    expect(stage.DependsOn).toEqual(
      expect.arrayContaining(ofType('AWS::ApiGatewayV2::Route').map(([logicalId]) => logicalId)),
    );
  });

  it('throttles, and logs each request without its query string', () => {
    const [[, stage]] = ofType('AWS::ApiGatewayV2::Stage') as [[string, Resource]];
    expect(stage.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: API_THROTTLE.rateLimit,
        ThrottlingBurstLimit: API_THROTTLE.burstLimit,
      },
    });
    expect(stage.Properties.RouteSettings).toEqual({
      'POST /users': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
      'POST /login': { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
      'POST /activate': { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
      'POST /activation-mail': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
      'POST /password-reset': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
      'POST /password-reset/new': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
      'POST /users/me/password': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
    });
    const format = JSON.parse(stage.Properties.AccessLogSettings.Format as string) as Json;
    expect(format).toMatchObject({ requestId: '$context.requestId', path: '$context.path' });
    expect(Object.values(format).join(' ')).not.toMatch(/querystring|\$context\.(body|query)/i);
  });
});

describe('alarms and outputs', () => {
  it('alarm on the on-failure queue and on failed or timed-out executions', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
    expect(alarms.map((alarm) => alarm.MetricName).sort()).toEqual([
      'ApproximateNumberOfMessagesVisible',
      'ExecutionsFailed',
      'ExecutionsTimedOut',
    ]);
    const dimensions = alarms.map((alarm) => alarm.Dimensions as Json[]);
    expect(dimensions).toEqual(
      expect.arrayContaining([
        [{ Name: 'QueueName', Value: getAtt(stack.onFailureQueue, 'QueueName') }],
        [{ Name: 'StateMachineArn', Value: { Ref: logicalId(stack.stateMachine) } }],
      ]),
    );
    for (const alarm of alarms) {
      expect(alarm).toMatchObject({
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: {
          'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }],
        },
      });
    }
  });

  it('output the API URL, the table names and the state machine ARN', () => {
    const outputs = Object.keys(template.toJSON().Outputs as Json);
    expect(outputs).toEqual(
      expect.arrayContaining([
        'ApiUrl',
        'HttpApiEndpoint',
        'UserTableName',
        'UserEmailTableName',
        'SessionTableName',
        'StateMachineArn',
        'OnFailureQueueUrl',
      ]),
    );
  });
});

describe('parameters', () => {
  const parameters = template.toJSON().Parameters as Record<string, Json>;
  const accepts = (name: string, value: string) =>
    new RegExp(`^(?:${parameters[name]!.AllowedPattern as string})$`).test(value);

  it.each([
    ['FromAddress', 'Digital Card Store <no-reply@example.org>', true],
    ['FromAddress', 'no-reply@example.org', true],
    ['FromAddress', 'no-reply@example.org\r\nBcc: victim@example.org', false],
    ['SesIdentity', 'example.org', true],
    ['SesIdentity', 'no-reply@example.org', true],
    ['SesIdentity', '*', false],
    ['PublicBaseUrl', '', true],
    ['PublicBaseUrl', 'https://cards.example.org', true],
    ['PublicBaseUrl', 'http://cards.example.org', false],
    ['PublicBaseUrl', 'https://cards.example.org/activate', false],
    ['ExtraActivationUrlBases', 'http://localhost:3000/activate', true],
    ['ExtraActivationUrlBases', 'http://localhost:3000/activate?x=1', false],
    ['AlarmTopicArn', '', true],
    ['AlarmTopicArn', 'arn:aws:sns:eu-west-1:123456789012:ops', true],
  ])('%s accepts %j: %s', (name, value, accepted) => {
    expect(accepts(name, value)).toBe(accepted);
  });

  it('need no value but the sender and its SES identity', () => {
    const required = Object.entries(parameters)
      .filter(([name, parameter]) => parameter.Default === undefined && !name.startsWith('Boot'))
      .map(([name]) => name)
      .sort();
    expect(required).toEqual(['FromAddress', 'SesIdentity']);
  });
});
