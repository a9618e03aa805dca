import { PutCommand } from '@aws-sdk/lib-dynamodb';
import aslValidator from 'asl-validator';
import {
  type RunOptions,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import {
  ActivationMailInProgressError,
  ActivationStatus,
  ActivationUrlBaseNotAllowedError,
  EmailAddressNotDeliverableError,
  MailDeliveryError,
  MAX_ACTIVATION_MAIL_LEASE_SECONDS,
  UserNotFoundError,
  UserStoreError,
} from '../src/activation';
import { TestTables, testConfig } from '../test/support/test-app';
import { GET_ACTIVATION_STATUS_FUNCTION, SEND_ACTIVATION_MAIL_FUNCTION } from './functions';
import { createGetActivationStatusHandler } from './get-activation-status/get-activation-status.handler';
import { createSendActivationMailHandler } from './send-activation-mail/send-activation-mail.handler';
import { InvalidTaskInputError } from './shared/task-input';
import {
  DEFAULT_STATE_MACHINE_NAME,
  type DefinitionSubstitutions,
  readDefinitionTemplate,
  STATE_MACHINE_DEFINITION_TEMPLATE,
  substituteDefinition,
  TASK_STATES,
} from './state-machine';
import { LocalSes } from '../src/workers/local-ses';
import { lambdaEnv, newUser } from './testing/pipeline-fixtures';

const ARNS: DefinitionSubstitutions = {
  GetActivationStatusFunctionArn:
    'arn:aws:lambda:us-east-1:123456789012:function:get-activation-status',
  SendActivationMailFunctionArn:
    'arn:aws:lambda:us-east-1:123456789012:function:send-activation-mail',
};

interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds: number;
  readonly BackoffRate: number;
  readonly MaxAttempts: number;
  readonly MaxDelaySeconds: number;
  readonly JitterStrategy: 'FULL' | 'NONE';
}

interface TaskState {
  readonly Type: 'Task';
  readonly Resource: string;
  readonly TimeoutSeconds: number;
  readonly Retry: readonly Retrier[];
  readonly Parameters?: unknown;
  readonly Catch: readonly { ErrorEquals: string[]; ResultPath: string; Next: string }[];
}

const definition = () =>
  JSON.parse(readDefinitionTemplate()) as { States: Record<string, unknown> };
const task = (name: keyof typeof TASK_STATES) => definition().States[name] as TaskState;
const retriedNames = (state: TaskState) => state.Retry.flatMap((retrier) => retrier.ErrorEquals);

/** The longest a retrier without jitter keeps retrying, in seconds. */
function retrySpanSeconds(retrier: Retrier): number {
  let span = 0;
  for (let attempt = 0; attempt < retrier.MaxAttempts; attempt++) {
    span += Math.min(
      retrier.IntervalSeconds * retrier.BackoffRate ** attempt,
      retrier.MaxDelaySeconds,
    );
  }
  return span;
}

describe('the state machine definition', () => {
  it('is valid ASL as stored (with placeholders) and once substituted', () => {
    const template = aslValidator(definition());
    const substituted = aslValidator(
      JSON.parse(substituteDefinition(readDefinitionTemplate(), ARNS)),
      {
        checkArn: true,
        checkPaths: true,
      },
    );

    expect(template.errors).toEqual([]);
    expect(template.isValid).toBe(true);
    expect(substituted.errors).toEqual([]);
    expect(substituted.isValid).toBe(true);
  });

  it('is refused by the validator when broken (the check can fail)', () => {
    const broken = definition();
    delete broken.States.MailSent;

    expect(aslValidator(broken).isValid).toBe(false);
  });

  it('is the file the module exports, with the agreed name and placeholders', () => {
    expect(STATE_MACHINE_DEFINITION_TEMPLATE).toEqual(definition());
    expect(DEFAULT_STATE_MACHINE_NAME).toBe('SF_CardStore_SendUserActivationMail');
    expect(task('GetActivationStatus').Resource).toBe('${GetActivationStatusFunctionArn}');
    expect(task('SendActivationMail').Resource).toBe('${SendActivationMailFunctionArn}');
  });

  it('retries exactly the core errors that are transient, by their names', () => {
    const retryable = [
      new UserStoreError().name,
      new MailDeliveryError('u', false).name,
      new ActivationMailInProgressError('u').name,
    ];
    const final = [
      new UserNotFoundError('u').name,
      new ActivationUrlBaseNotAllowedError('b').name,
      new EmailAddressNotDeliverableError('u').name,
      new InvalidTaskInputError('x').name,
    ];

    expect(retriedNames(task('SendActivationMail'))).toEqual(expect.arrayContaining(retryable));
    expect(retriedNames(task('GetActivationStatus'))).toContain('UserStoreError');
    expect(retriedNames(task('RecordMailSent'))).toContain('UserStoreError');
    expect(retriedNames(task('RecordMailSent'))).not.toContain('MailDeliveryError');
    for (const name of ['GetActivationStatus', 'SendActivationMail', 'RecordMailSent'] as const) {
      expect(retriedNames(task(name))).toEqual(
        expect.arrayContaining(['Lambda.ServiceException', 'Lambda.TooManyRequestsException']),
      );
      for (const error of final) expect(retriedNames(task(name))).not.toContain(error);
      expect(task(name).Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'ActivationMailFailed' },
      ]);
    }
  });

  // Neither asl-validator 4 nor aws-local-stepfunctions 3 checks these two fields (both
  // take any value), so the limits Step Functions enforces are checked here.
  it('has retriers Step Functions accepts, each with a capped backoff', () => {
    for (const name of Object.keys(TASK_STATES) as (keyof typeof TASK_STATES)[]) {
      for (const retrier of task(name).Retry) {
        expect(Object.keys(retrier).sort()).toEqual([
          'BackoffRate',
          'ErrorEquals',
          'IntervalSeconds',
          'JitterStrategy',
          'MaxAttempts',
          'MaxDelaySeconds',
        ]);
        expect(Number.isInteger(retrier.IntervalSeconds) && retrier.IntervalSeconds >= 1).toBe(
          true,
        );
        expect(retrier.BackoffRate).toBeGreaterThanOrEqual(1);
        expect(Number.isInteger(retrier.MaxAttempts) && retrier.MaxAttempts >= 1).toBe(true);
        expect(Number.isInteger(retrier.MaxDelaySeconds)).toBe(true);
        expect(retrier.MaxDelaySeconds).toBeGreaterThan(retrier.IntervalSeconds);
        expect(['FULL', 'NONE']).toContain(retrier.JitterStrategy);
      }
    }
  });

  it('keeps retrying ActivationMailInProgressError longer than the claim lease', () => {
    const inProgress = task('SendActivationMail').Retry.find((retrier) =>
      retrier.ErrorEquals.includes('ActivationMailInProgressError'),
    );

    // Without jitter the span is certain; with FULL jitter it could be near zero.
    expect(inProgress?.JitterStrategy).toBe('NONE');
    expect(retrySpanSeconds(inProgress!)).toBeGreaterThan(
      MAX_ACTIVATION_MAIL_LEASE_SECONDS + SEND_ACTIVATION_MAIL_FUNCTION.timeoutSeconds,
    );
  });

  it('feeds RecordMailSent the claim SendActivationMail answered, and retries it within seconds', () => {
    expect(task('RecordMailSent').Parameters).toEqual({
      'username.$': '$.username',
      'mailed.$': '$.sendResult',
    });
    // After a stall ends, a waiting write goes within MaxDelaySeconds, not after a lease.
    for (const retrier of task('RecordMailSent').Retry) {
      expect(retrier.MaxDelaySeconds).toBeLessThanOrEqual(10);
    }
  });

  it('gives each task more time than its function, and the mail function less than the lease', () => {
    expect(task('RecordMailSent').TimeoutSeconds).toBeGreaterThan(
      SEND_ACTIVATION_MAIL_FUNCTION.timeoutSeconds,
    );
    expect(task('GetActivationStatus').TimeoutSeconds).toBeGreaterThan(
      GET_ACTIVATION_STATUS_FUNCTION.timeoutSeconds,
    );
    expect(task('SendActivationMail').TimeoutSeconds).toBeGreaterThan(
      SEND_ACTIVATION_MAIL_FUNCTION.timeoutSeconds,
    );
    expect(SEND_ACTIVATION_MAIL_FUNCTION.timeoutSeconds).toBeLessThan(60);
  });
});

describe('substituteDefinition', () => {
  it('fills in the function ARNs and leaves no placeholder', () => {
    const text = substituteDefinition(readDefinitionTemplate(), ARNS);

    expect(text).not.toContain('${');
    const states = (JSON.parse(text) as { States: Record<string, { Resource?: string }> }).States;
    expect(states.GetActivationStatus?.Resource).toBe(ARNS.GetActivationStatusFunctionArn);
    expect(states.SendActivationMail?.Resource).toBe(ARNS.SendActivationMailFunctionArn);
  });

  it('refuses a missing value and an unknown placeholder', () => {
    expect(() =>
      substituteDefinition(readDefinitionTemplate(), {
        ...ARNS,
        SendActivationMailFunctionArn: '',
      }),
    ).toThrow('No value for the placeholder ${SendActivationMailFunctionArn}.');
    expect(() => substituteDefinition('{"Resource": "${OtherArn}"}', ARNS)).toThrow(
      'Unknown placeholder ${OtherArn} in the definition.',
    );
  });
});

describe('the state machine run by aws-local-stepfunctions over the real handlers', () => {
  let tables: TestTables;
  let ses: LocalSes;
  let machine: StateMachine;
  let taskHandlers: NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers'];

  beforeAll(async () => {
    [tables, ses] = await Promise.all([new TestTables(testConfig()).create(), LocalSes.start(0)]);
    const env = lambdaEnv(tables, ses.endpoint);
    const getStatus = createGetActivationStatusHandler(env);
    const sendMail = createSendActivationMailHandler(env);
    const byArn: Record<string, (input: unknown) => Promise<unknown>> = {
      [ARNS.GetActivationStatusFunctionArn]: getStatus,
      [ARNS.SendActivationMailFunctionArn]: sendMail,
    };
    const substituted = JSON.parse(
      substituteDefinition(readDefinitionTemplate(), ARNS),
    ) as StateMachineDefinition;
    machine = new StateMachine(substituted);
    // Each Task runs the handler its Resource names, answering JSON as Lambda does.
    taskHandlers = Object.fromEntries(
      Object.keys(TASK_STATES).map((state) => {
        const resource = (substituted.States[state] as { Resource: string }).Resource;
        return [
          state,
          async (input: unknown) => JSON.parse(JSON.stringify(await byArn[resource]!(input))),
        ];
      }),
    );
  });

  afterAll(async () => {
    await Promise.all([tables.drop(), ses.stop()]);
  });

  type RetryOverrides = NonNullable<RunOptions['overrides']>['retryIntervalOverrides'];

  async function run(username: string, retryIntervalOverrides: RetryOverrides = {}) {
    const execution = machine.run(
      { username },
      {
        overrides: {
          taskResourceLocalHandlers: taskHandlers,
          retryIntervalOverrides: {
            GetActivationStatus: 0,
            SendActivationMail: 0,
            RecordMailSent: 0,
            ...retryIntervalOverrides,
          },
        },
      },
    );
    const result = await execution.result.then(
      (output) => ({ output, error: undefined }),
      (error: unknown) => ({
        output: undefined,
        error: error as { name: string; cause?: { name: string; message: string } },
      }),
    );
    const events: { type: string; state?: { name: string } }[] = [];
    for await (const event of execution.eventLogs) events.push(event);
    const entered = events
      .filter((event) => event.type === 'StateEntered')
      .map((event) => event.state?.name);
    const retried = events
      .filter((event) => event.type === 'StateRetried')
      .map((event) => event.state?.name);
    return { ...result, entered, retried };
  }

  it('mails a NONE user and ends in MailSent', async () => {
    const user = newUser();
    await tables.users.create(user);

    const { output, error, entered } = await run(user.username);

    expect(error).toBeUndefined();
    expect(output).toEqual({
      username: user.username,
      activationStatus: 'NONE',
      sendResult: { result: 'OK', claimId: expect.any(String), sentAt: expect.any(String) },
      recordResult: { result: 'RECORDED' },
    });
    expect(entered).toEqual([
      'GetActivationStatus',
      'CheckActivationStatus',
      'SendActivationMail',
      'CheckMailWentOut',
      'RecordMailSent',
      'MailSent',
    ]);
    expect(await ses.mailsTo(user.email)).toHaveLength(1);
    expect((await tables.users.findByUsername(user.username))?.activationStatus).toBe(
      ActivationStatus.MAIL_SENT,
    );
  });

  it.each([
    ['a MAIL_SENT user', ActivationStatus.MAIL_SENT],
    ['a DONE user', ActivationStatus.DONE],
  ])('sends nothing to %s and ends in MailSent', async (_label, status) => {
    const user = newUser({ activationStatus: status });
    await tables.users.create(user);

    const { output, entered } = await run(user.username);

    expect(output).toEqual({ username: user.username, activationStatus: status });
    expect(entered).toEqual(['GetActivationStatus', 'CheckActivationStatus', 'MailSent']);
    expect(await ses.mailsTo(user.email)).toHaveLength(0);
  });

  it('sends nothing for an unknown user and ends in MailSent', async () => {
    const before = (await ses.mails()).length;

    const { output, entered } = await run('nobody-here');

    expect(output).toEqual({ username: 'nobody-here', activationStatus: '' });
    expect(entered).toEqual(['GetActivationStatus', 'CheckActivationStatus', 'MailSent']);
    expect(await ses.mails()).toHaveLength(before);
  });

  it('sends one mail when two executions for one user run at once (a duplicated record)', async () => {
    const user = newUser();
    await tables.users.create(user);

    // The loser's ActivationMailInProgressError retries every 200 ms here (15 s+ on AWS),
    // long enough for the winner to finish; it then finds MAIL_SENT.
    const runs = await Promise.all([
      run(user.username, { SendActivationMail: [200, 0] }),
      run(user.username, { SendActivationMail: [200, 0] }),
    ]);

    expect(runs.map((execution) => execution.error)).toEqual([undefined, undefined]);
    expect(runs.map((execution) => execution.output)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ sendResult: expect.objectContaining({ result: 'OK' }) }),
      ]),
    );
    expect(await ses.mailsTo(user.email)).toHaveLength(1);
  });

  it('fails in ActivationMailFailed with the task error when the link base is not allowed', async () => {
    const user = newUser({ activationUrlBase: 'http://evil.test/activate' });
    await tables.users.create(user);

    const { error, entered, retried } = await run(user.username);

    expect(error?.name).toBe('ExecutionError');
    expect(error?.cause).toMatchObject({ name: 'ActivationUrlBaseNotAllowedError' });
    expect(error?.cause?.message).toContain('http://evil.test/activate');
    expect(retried).toEqual([]);
    expect(entered.at(-1)).toBe('ActivationMailFailed');
    expect(await ses.mailsTo(user.email)).toHaveLength(0);
  });

  it('fails in ActivationMailFailed at once, mailing nothing, for an older item whose address cannot be delivered', async () => {
    const user = newUser({ email: 'j\u00f6rg@example.org' });
    // As an older version stored it: today's rules would refuse it at registration.
    await tables.documentClient.send(
      new PutCommand({ TableName: tables.config.dynamodb.tables.users, Item: { ...user } }),
    );

    const { error, entered, retried } = await run(user.username);

    expect(error?.cause).toMatchObject({ name: 'EmailAddressNotDeliverableError' });
    expect(error?.cause?.message).not.toContain(user.email);
    expect(retried).toEqual([]);
    expect(entered.at(-1)).toBe('ActivationMailFailed');
    expect(await ses.mailsTo(user.email)).toHaveLength(0);
  });

  it('retries only the MAIL_SENT write when it fails after SES took the mail: one mail', async () => {
    const user = newUser();
    await tables.users.create(user);
    const failures = { left: 2 };
    const recordFirst = taskHandlers!.RecordMailSent!;
    // DynamoDB failing the write, as the Lambda reports it: the core's UserStoreError.
    const failingRecord: typeof recordFirst = async (input) => {
      if (failures.left-- > 0) {
        throw Object.assign(new Error('DynamoDB did not answer'), { name: 'UserStoreError' });
      }
      return recordFirst(input);
    };
    const execution = machine.run(
      { username: user.username },
      {
        overrides: {
          taskResourceLocalHandlers: { ...taskHandlers, RecordMailSent: failingRecord },
          retryIntervalOverrides: {
            GetActivationStatus: 0,
            SendActivationMail: 0,
            RecordMailSent: 0,
          },
        },
      },
    );

    const output = await execution.result;
    const events: { type: string; state?: { name: string } }[] = [];
    for await (const event of execution.eventLogs) events.push(event);

    expect(output).toMatchObject({ recordResult: { result: 'RECORDED' } });
    const named = (type: string) =>
      events.filter((event) => event.type === type).map((event) => event.state?.name);
    expect(named('StateRetried')).toEqual(['RecordMailSent', 'RecordMailSent']);
    expect(named('StateEntered').filter((name) => name === 'SendActivationMail')).toHaveLength(1);
    expect(await ses.mailsTo(user.email)).toHaveLength(1);
    expect((await tables.users.findByUsername(user.username))?.activationStatus).toBe(
      ActivationStatus.MAIL_SENT,
    );
  });

  describe('with the local SES throttling every other send (SES_LOCAL_THROTTLE_RATE 0.5)', () => {
    let throttling: LocalSes;
    let sendMailHandler: NonNullable<typeof taskHandlers>[string];

    beforeAll(async () => {
      throttling = await LocalSes.start(0, { throttleRate: 0.5 });
      const sendMail = createSendActivationMailHandler(lambdaEnv(tables, throttling.endpoint));
      sendMailHandler = taskHandlers!.SendActivationMail;
      taskHandlers!.SendActivationMail = async (input: unknown) =>
        JSON.parse(JSON.stringify(await sendMail(input)));
    });

    afterAll(async () => {
      taskHandlers!.SendActivationMail = sendMailHandler;
      await throttling.stop();
    });

    it('takes the Retry after a throttled send and mails exactly once', async () => {
      const user = newUser();
      await tables.users.create(user);

      const { output, error, retried } = await run(user.username);

      expect(error).toBeUndefined();
      expect(output).toMatchObject({ sendResult: { result: 'OK' } });
      expect(retried).toEqual(['SendActivationMail']);
      expect(await ses.mailsTo(user.email)).toHaveLength(1);
    });
  });

  it('fails with UserStoreError once the retries of a failing store run out', async () => {
    const broken = createGetActivationStatusHandler({
      ...lambdaEnv(tables, ses.endpoint),
      USER_TABLE_NAME: 'User-nosuchtable', // a User table, named as tests name theirs, never created
    });
    const execution = machine.run(
      { username: 'alice' },
      {
        overrides: {
          taskResourceLocalHandlers: { GetActivationStatus: (input) => broken(input) },
          retryIntervalOverrides: { GetActivationStatus: 0 },
        },
      },
    );

    await expect(execution.result).rejects.toMatchObject({
      name: 'ExecutionError',
      cause: { name: 'UserStoreError' },
    });
    const retries: unknown[] = [];
    for await (const event of execution.eventLogs)
      if (event.type === 'StateRetried') retries.push(event);
    expect(retries).toHaveLength(task('GetActivationStatus').Retry[0]!.MaxAttempts);
  });
});
