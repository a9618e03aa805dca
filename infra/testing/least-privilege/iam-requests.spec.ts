/** What IAM authorizes for each recorded call: the mapping the least-privilege proof rests on. */
import type { ObservedAwsCall } from '../../../src/platform/aws/call-observers';
import { iamRequestsOf, senderDomain, UnmappedCallError } from './iam-requests';

const deployed = {
  tableOf: (name: string) => ({ User: 'UserTable', UserEmail: 'EmailTable' })[name],
  stateMachineOf: (name: string) => (name === 'Machine' ? 'MachineId' : undefined),
  functionOf: (name: string) => (name === 'get-activation-status' ? 'GetFn' : undefined),
};
const ACCOUNT = 'arn:aws:dynamodb:eu-west-1:123456789012';

const call = (service: string, operation: string, input: object): ObservedAwsCall => ({
  principal: 'api',
  service,
  operation,
  region: 'us-east-1',
  input,
});

describe('iamRequestsOf', () => {
  it('needs the item action of each transaction item, on its own table', () => {
    const requests = iamRequestsOf(
      call('DynamoDB', 'TransactWriteItems', {
        TransactItems: [
          { Put: { TableName: 'User', Item: {} } },
          { ConditionCheck: { TableName: 'UserEmail', Key: {} } },
        ],
      }),
      deployed,
    );

    expect(requests).toEqual([
      { principal: 'api', action: 'dynamodb:PutItem', resource: `${ACCOUNT}:table/UserTable` },
      {
        principal: 'api',
        action: 'dynamodb:ConditionCheckItem',
        resource: `${ACCOUNT}:table/EmailTable`,
      },
    ]);
  });

  it('reads the stream of GetRecords from its shard iterator', () => {
    const [request] = iamRequestsOf(
      call('DynamoDBStreams', 'GetRecords', {
        ShardIterator:
          'arn:aws:dynamodb:ddblocal:000000000000:table/User/stream/2026-12-01T10:00:00.000|001|c2hhcmQ=',
      }),
      deployed,
    );

    expect(request).toMatchObject({
      action: 'dynamodb:GetRecords',
      resource: `${ACCOUNT}:table/UserTable/stream/2026-01-01T00:00:00.000`,
    });
  });

  it('sends mail as the identity of the sender’s domain, and invokes by function ARN', () => {
    const [mail] = iamRequestsOf(
      call('SES', 'SendEmail', { Source: 'Card Store <no-reply@cards.example>' }),
      deployed,
    );
    const [invoke] = iamRequestsOf(
      call('Lambda', 'Invoke', {
        FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:get-activation-status',
      }),
      deployed,
    );

    expect(mail?.resource).toBe('arn:aws:ses:eu-west-1:123456789012:identity/cards.example');
    expect(invoke).toMatchObject({
      action: 'lambda:InvokeFunction',
      resource: 'arn:aws:lambda:eu-west-1:123456789012:function:GetFn',
    });
    expect(senderDomain('no-reply@cards.example')).toBe('cards.example');
  });

  it.each([
    ['an operation it has no mapping for', call('DynamoDB', 'ExecuteStatement', {})],
    ['a table that is none of the stack’s', call('DynamoDB', 'GetItem', { TableName: 'Card' })],
    [
      'a state machine that is none of the stack’s',
      call('SFN', 'StartExecution', { stateMachineArn: 'arn:aws:states:x:1:stateMachine:Other' }),
    ],
  ])('refuses %s, naming it', (_case, unknown) => {
    expect(() => iamRequestsOf(unknown, deployed)).toThrow(UnmappedCallError);
  });
});
