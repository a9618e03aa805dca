import { ActivationStatus } from '../../src/activation';
import { TestTables, testConfig } from '../../test/support/test-app';
import { newUser } from '../testing/pipeline-fixtures';
import {
  createGetActivationStatusHandler,
  type GetActivationStatusHandler,
} from './get-activation-status.handler';

let tables: TestTables;
let handler: GetActivationStatusHandler;

beforeAll(async () => {
  tables = await new TestTables(testConfig()).create();
  const { region, endpoint, tables: names } = tables.config.dynamodb;
  handler = createGetActivationStatusHandler({
    AWS_REGION: region,
    DYNAMODB_ENDPOINT: endpoint,
    USER_TABLE_NAME: names.users,
  });
});

afterAll(() => tables.drop());

describe('get-activation-status over DynamoDB Local', () => {
  it.each(Object.values(ActivationStatus))('answers the status of a %s user', async (status) => {
    const user = newUser({ activationStatus: status });
    await tables.users.create(user);

    await expect(handler({ username: user.username })).resolves.toBe(status);
  });

  it.each([
    ['an unknown user', { username: 'nobody-here' }],
    ['an empty username', { username: '' }],
    ['no username', {}],
    ['a username that is not a string', { username: 7 }],
    ['a username no user can have', { username: 'Not A User!' }],
    ['an input that is not an object', 'alice'],
  ])('answers "" for %s', async (_label, event) => {
    await expect(handler(event)).resolves.toBe('');
  });

  it('reports a failing store as UserStoreError, which the state machine retries', async () => {
    const broken = createGetActivationStatusHandler({
      AWS_REGION: tables.config.dynamodb.region,
      DYNAMODB_ENDPOINT: tables.config.dynamodb.endpoint,
      USER_TABLE_NAME: 'User-nosuchtable', // a User table, named as tests name theirs, never created
    });

    await expect(broken({ username: 'alice' })).rejects.toMatchObject({ name: 'UserStoreError' });
  });
});
