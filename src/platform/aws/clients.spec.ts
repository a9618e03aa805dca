/**
 * The AWS clients report the calls of a component, and only of one: what the
 * least-privilege proof (infra/least-privilege.spec.ts) records. Over the run's DynamoDB Local.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { testEndpoint } from '../../../test/support/test-app';
import { type ObservedAwsCall, observeAwsCalls } from './call-observers';
import { createDocumentClient, createDynamoDbClient } from './clients';

describe('AWS clients', () => {
  const seen: ObservedAwsCall[] = [];
  let stopObserving: () => void;
  beforeEach(() => {
    seen.length = 0;
    stopObserving = observeAwsCalls((call) => seen.push(call));
  });
  afterEach(() => stopObserving());

  it('report each call of a component’s client as that component’s, with the low-level operation', async () => {
    const client = createDynamoDbClient({
      region: 'eu-west-1',
      endpoint: testEndpoint(),
      principal: 'get-activation-status',
    });
    // A missing table, named as tests name their User tables: the run's least-privilege
    // check sees this call too, and must be able to place it.

    await expect(
      createDocumentClient(client).send(
        new GetCommand({ TableName: 'User-nosuchtable', Key: { username: 'ada' } }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    client.destroy();

    expect(seen).toEqual([
      {
        principal: 'get-activation-status',
        service: 'DynamoDB',
        operation: 'GetItem',
        region: 'eu-west-1',
        input: expect.objectContaining({ TableName: 'User-nosuchtable' }),
      },
    ]);
    await expect(client.config.userAgentAppId()).resolves.toBe('card-store.get-activation-status');
  });

  it('report nothing for a client built for no component (tooling, tests’ own reads)', async () => {
    const client = createDynamoDbClient({ region: 'eu-west-1', endpoint: testEndpoint() });

    await createDocumentClient(client)
      .send(new GetCommand({ TableName: 'User-nosuchtable', Key: { username: 'ada' } }))
      .catch(() => undefined);
    client.destroy();

    expect(seen).toEqual([]);
  });
});
