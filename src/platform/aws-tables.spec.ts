import { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { freePort } from '../../test/support/ports';
import { testConfig, TestTables } from '../../test/support/test-app';
import { type AppConfig, loadConfig } from '../config/app-config';
import { AwsSetupError, assertTablesExist } from './aws-tables';
import { createDynamoDbClient } from './aws/clients';

/** The check's outcome: undefined when it passed, else what it threw. */
async function outcomeOf(
  config: AppConfig['dynamodb'],
): Promise<{ name: string; message: string } | undefined> {
  const client = createDynamoDbClient(config);
  try {
    await assertTablesExist(client, config);
    return undefined;
  } catch (error) {
    const { name, message } = error as Error;
    return { name, message };
  } finally {
    client.destroy();
  }
}

/** A modeled error of DynamoDB's API, as the SDK throws it. */
function dynamoDbError(name: string, message: string): DynamoDBServiceException {
  return new DynamoDBServiceException({
    name,
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message,
  });
}

describe('assertTablesExist (DynamoDB Local)', () => {
  let tables: TestTables;

  beforeAll(async () => {
    tables = await new TestTables(testConfig()).create();
  });
  afterAll(() => tables.drop());

  it('passes when the three tables exist', async () => {
    const outcome = await outcomeOf(tables.config.dynamodb);

    expect(outcome).toBeUndefined();
  });

  it('names a missing table, its region and the variable that names it', async () => {
    const config = {
      ...tables.config.dynamodb,
      tables: { ...tables.config.dynamodb.tables, sessions: 'NoSuchSessionTable' },
    };

    const outcome = await outcomeOf(config);

    expect(outcome).toEqual({
      name: 'AwsSetupError',
      message:
        'table NoSuchSessionTable not found in us-east-1: deploy the stack (npm run deploy) or set SESSION_TABLE_NAME',
    });
  });

  it('names every missing table in one message, as before a first deploy', async () => {
    const config = testConfig({ AWS_REGION: 'eu-west-1' }).dynamodb;
    const { users, userEmails, sessions, rateLimits } = config.tables;

    const outcome = await outcomeOf(config);

    expect(outcome).toEqual({
      name: 'AwsSetupError',
      message:
        `tables ${users}, ${userEmails}, ${sessions}, ${rateLimits} not found in eu-west-1: deploy the stack ` +
        '(npm run deploy) or set USER_TABLE_NAME, USER_EMAIL_TABLE_NAME, SESSION_TABLE_NAME, RATE_LIMIT_TABLE_NAME',
    });
  });

  it('says DynamoDB cannot be reached when nothing answers', async () => {
    const config = {
      ...tables.config.dynamodb,
      endpoint: `http://127.0.0.1:${await freePort()}`,
    };

    const outcome = await outcomeOf(config);

    expect(outcome?.name).toBe('AwsSetupError');
    expect(outcome?.message).toMatch(
      /^cannot reach DynamoDB in us-east-1 \(.*ECONNREFUSED.*\): check the network and AWS_REGION$/,
    );
  });
});

// DynamoDB Local accepts any credentials, so refusals of credentials are mocked.
describe('assertTablesExist when AWS refuses the credentials (aws-sdk-client-mock)', () => {
  const config = loadConfig({ CARD_STORE_MODE: 'aws', AWS_REGION: 'eu-west-1' }).dynamodb;
  const client = createDynamoDbClient(config);
  const dynamodb = mockClient(client);

  afterEach(() => dynamodb.reset());
  afterAll(() => {
    dynamodb.restore();
    client.destroy();
  });

  it.each([
    [
      'missing from the default chain',
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
    ],
    [
      'expired',
      dynamoDbError(
        'ExpiredTokenException',
        'The security token included in the request is expired',
      ),
    ],
    [
      'unknown to AWS',
      dynamoDbError(
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      ),
    ],
  ])('says how to sign in when the credentials are %s', async (_case, error) => {
    dynamodb.rejects(error);

    const outcome = assertTablesExist(client, config);

    await expect(outcome).rejects.toThrow(AwsSetupError);
    await expect(outcome).rejects.toThrow(
      `no valid AWS credentials for DynamoDB in eu-west-1 (${error.name}: ${error.message}): ` +
        'sign in again (e.g. `aws sso login`), or set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY',
    );
  });

  it('names the table and the permission when the credentials may not read it', async () => {
    dynamodb.rejects(dynamoDbError('AccessDeniedException', 'not authorized'));

    const outcome = assertTablesExist(client, config);

    await expect(outcome).rejects.toThrow(
      'the AWS credentials in use may not read table User in eu-west-1 ' +
        '(AccessDeniedException: not authorized): they need dynamodb:DescribeTable',
    );
  });

  it('lets an error it has no advice for through unchanged', async () => {
    const error = dynamoDbError('InternalServerError', 'try again');
    dynamodb.rejects(error);

    await expect(assertTablesExist(client, config)).rejects.toBe(error);
  });
});
