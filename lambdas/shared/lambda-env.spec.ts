import { createGetActivationStatusHandler } from '../get-activation-status/get-activation-status.handler';
import { createSendActivationMailHandler } from '../send-activation-mail/send-activation-mail.handler';
import { createUserTableTriggerHandler } from '../user-table-trigger/user-table-trigger.handler';
import {
  awsRegion,
  integer,
  LambdaEnvError,
  optional,
  optionalEndpoint,
  readLambdaEnv,
  tableName,
  urlList,
} from './lambda-env';

function problemsOf(read: () => unknown): readonly string[] {
  try {
    read();
  } catch (error) {
    if (error instanceof LambdaEnvError) return error.problems;
    throw error;
  }
  throw new Error('expected a LambdaEnvError');
}

const SEND_ENV = {
  AWS_REGION: 'eu-west-1',
  USER_TABLE_NAME: 'User',
  FROM_ADDRESS: 'Digital Card Store <no-reply@card-store.example>',
  ACTIVATION_URL_BASES: 'https://cards.example/activate',
};

describe('readLambdaEnv', () => {
  it('reads typed values, defaults and optional ones', () => {
    const vars = readLambdaEnv(
      {
        AWS_REGION: 'eu-west-1',
        USER_TABLE_NAME: 'User',
        ACTIVATION_URL_BASES: ' https://a.example/activate/ ,http://localhost:3000/activate',
        DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000/',
      },
      {
        AWS_REGION: awsRegion,
        USER_TABLE_NAME: tableName,
        USER_EMAIL_TABLE_NAME: optional(tableName),
        ACTIVATION_URL_BASES: urlList,
        DYNAMODB_ENDPOINT: optionalEndpoint,
        SES_ENDPOINT: optionalEndpoint,
        LEASE: integer({ defaultValue: 60, min: 5, max: 3600 }),
      },
    );

    expect(vars).toEqual({
      AWS_REGION: 'eu-west-1',
      USER_TABLE_NAME: 'User',
      USER_EMAIL_TABLE_NAME: undefined,
      ACTIVATION_URL_BASES: ['https://a.example/activate', 'http://localhost:3000/activate'],
      DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000',
      SES_ENDPOINT: undefined,
      LEASE: 60,
    });
  });

  it('names every missing or bad variable at once, with what it got', () => {
    const problems = problemsOf(() =>
      readLambdaEnv(
        { AWS_REGION: 'Europe', LEASE: '5s', SES_ENDPOINT: 'ftp://mail', BASES: ',' },
        {
          AWS_REGION: awsRegion,
          USER_TABLE_NAME: tableName,
          LEASE: integer({ defaultValue: 60, min: 5, max: 3600 }),
          SES_ENDPOINT: optionalEndpoint,
          BASES: urlList,
        },
      ),
    );

    expect(problems).toEqual([
      'AWS_REGION must be an AWS region such as eu-west-1 (got "Europe")',
      'USER_TABLE_NAME is required (got "")',
      'LEASE must be an integer from 5 to 3600 (got "5s")',
      'SES_ENDPOINT must be an absolute http(s) URL without query or fragment (got "ftp://mail")',
      'BASES must be a comma-separated list of absolute http(s) URLs without query or fragment (got ",")',
    ]);
  });

  it('treats a blank value as missing, never as an empty string', () => {
    expect(problemsOf(() => readLambdaEnv({ T: '  ' }, { T: tableName }))).toEqual([
      'T is required (got "  ")',
    ]);
  });
});

describe('the handlers fail fast on a bad environment', () => {
  it('send-activation-mail names a missing FROM_ADDRESS and a bad lease', () => {
    const env = { ...SEND_ENV, FROM_ADDRESS: undefined, ACTIVATION_MAIL_LEASE_SECONDS: '2' };

    const problems = problemsOf(() => createSendActivationMailHandler(env));

    expect(problems).toEqual([
      'FROM_ADDRESS is required (got "")',
      'ACTIVATION_MAIL_LEASE_SECONDS must be an integer from 5 to 240 (got "2")',
    ]);
  });

  it('send-activation-mail requires the allow-list of link bases', () => {
    const env = { ...SEND_ENV, ACTIVATION_URL_BASES: undefined };

    expect(problemsOf(() => createSendActivationMailHandler(env))).toEqual([
      'ACTIVATION_URL_BASES is required (got "")',
    ]);
  });

  it('get-activation-status names a missing USER_TABLE_NAME and AWS_REGION', () => {
    const problems = problemsOf(() => createGetActivationStatusHandler({}));

    expect(problems).toEqual([
      'AWS_REGION is required (got "")',
      'USER_TABLE_NAME is required (got "")',
    ]);
  });

  it('user-table-trigger refuses a STEP_FUNCTION_ARN that is not a state machine ARN', () => {
    const env = {
      AWS_REGION: 'eu-west-1',
      STEP_FUNCTION_ARN: 'arn:aws:lambda:eu-west-1:123456789012:function:SendMail',
    };

    expect(problemsOf(() => createUserTableTriggerHandler(env))).toEqual([
      expect.stringMatching(
        /^STEP_FUNCTION_ARN must be a state machine ARN .*\(got "arn:aws:lambda:/,
      ),
    ]);
  });

  it('a good environment builds every handler', () => {
    expect(createSendActivationMailHandler(SEND_ENV)).toEqual(expect.any(Function));
    expect(
      createGetActivationStatusHandler({ AWS_REGION: 'eu-west-1', USER_TABLE_NAME: 'User' }),
    ).toEqual(expect.any(Function));
    expect(
      createUserTableTriggerHandler({
        AWS_REGION: 'eu-west-1',
        STEP_FUNCTION_ARN:
          'arn:aws:states:eu-west-1:123456789012:stateMachine:SF_CardStore_SendUserActivationMail',
      }),
    ).toEqual(expect.any(Function));
  });
});
