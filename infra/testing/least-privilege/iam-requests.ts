/**
 * What IAM authorizes for each AWS call a component made: the action and the resource, as
 * ARNs of the deployed account (deployed-account.ts). One call can need several
 * authorizations (a transaction needs each item's action on each table) and some need an
 * action of another name (Lambda's Invoke is `lambda:InvokeFunction`).
 */
import type { ObservedAwsCall } from '../../../src/platform/aws/call-observers';
import type { AwsPrincipal } from '../../../src/platform/aws/principals';
import { deployedArn } from './deployed-account';

export interface IamRequest {
  readonly principal: AwsPrincipal;
  readonly action: string;
  /** The ARN in the deployed account, or `*` for an action without resource types. */
  readonly resource: string;
}

/** Which deployed resource a local name stands for: its logical id in the template. */
export interface DeployedResources {
  tableOf(localName: string): string | undefined;
  stateMachineOf(localName: string): string | undefined;
  functionOf(localName: string): string | undefined;
}

/** A call whose authorization this module cannot tell: it names what to add. */
export class UnmappedCallError extends Error {
  constructor(call: ObservedAwsCall, why: string) {
    super(`${call.principal}: ${call.service} ${call.operation}: ${why}`);
    this.name = 'UnmappedCallError';
  }
}

type Input = Readonly<Record<string, unknown>>;

/** Transaction items by their key in TransactItems, and the action each needs. */
const TRANSACTION_ITEM_ACTIONS: Readonly<Record<string, string>> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
  Get: 'dynamodb:GetItem',
};

/** DynamoDB operations on one table (`TableName`), authorized as the action of their name. */
const TABLE_OPERATIONS = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'DescribeTable',
  'DescribeTimeToLive',
]);

/** The stream ARN of a shard iterator, which DynamoDB (Local too) puts before the first `|`. */
const streamOfIterator = (iterator: string) => iterator.split('|')[0] ?? '';

/** `addr@domain` or `Name <addr@domain>` → `domain`. */
export function senderDomain(source: string): string {
  const address = /<([^>]+)>\s*$/.exec(source)?.[1] ?? source;
  return address.slice(address.lastIndexOf('@') + 1).trim();
}

/**
 * @throws UnmappedCallError for an operation this module does not know, or a resource
 *   that is none of the stack's
 */
export function iamRequestsOf(call: ObservedAwsCall, deployed: DeployedResources): IamRequest[] {
  const input = (call.input ?? {}) as Input;
  const request = (action: string, resource: string): IamRequest => ({
    principal: call.principal,
    action,
    resource,
  });
  const table = (name: unknown) => {
    const id = deployed.tableOf(String(name));
    if (!id)
      throw new UnmappedCallError(call, `table ${String(name)} is none of the stack's tables`);
    return deployedArn.table(id);
  };
  const stream = (arn: unknown) => {
    const name = /:table\/([^/]+)\/stream\//.exec(String(arn))?.[1];
    const id = name && deployed.tableOf(name);
    if (!id) throw new UnmappedCallError(call, `stream ${String(arn)} is none of the stack's`);
    return deployedArn.stream(id);
  };

  switch (`${call.service}:${call.operation}`) {
    case 'DynamoDB:TransactWriteItems':
    case 'DynamoDB:TransactGetItems':
      return ((input.TransactItems ?? []) as Input[]).flatMap((item) =>
        Object.entries(item).map(([kind, body]) => {
          const action = TRANSACTION_ITEM_ACTIONS[kind];
          if (!action) throw new UnmappedCallError(call, `no action for a ${kind} item`);
          return request(action, table((body as Input).TableName));
        }),
      );
    case 'DynamoDB:BatchGetItem':
    case 'DynamoDB:BatchWriteItem':
      return Object.keys((input.RequestItems ?? {}) as Input).map((name) =>
        request(`dynamodb:${call.operation}`, table(name)),
      );
    case 'DynamoDBStreams:DescribeStream':
    case 'DynamoDBStreams:GetShardIterator':
      return [request(`dynamodb:${call.operation}`, stream(input.StreamArn))];
    case 'DynamoDBStreams:GetRecords':
      return [
        request('dynamodb:GetRecords', stream(streamOfIterator(String(input.ShardIterator)))),
      ];
    case 'DynamoDBStreams:ListStreams':
      return [request('dynamodb:ListStreams', '*')];
    case 'SES:SendEmail':
    case 'SES:SendRawEmail':
      return [
        request(
          `ses:${call.operation}`,
          deployedArn.sesIdentity(senderDomain(String(input.Source))),
        ),
      ];
    case 'SFN:StartExecution': {
      const name = String(input.stateMachineArn).split(':stateMachine:')[1] ?? '';
      const id = deployed.stateMachineOf(name);
      if (!id) throw new UnmappedCallError(call, `state machine ${name} is none of the stack's`);
      return [request('states:StartExecution', deployedArn.stateMachine(id))];
    }
    case 'Lambda:Invoke': {
      const name = String(input.FunctionName).split(':function:')[1] ?? String(input.FunctionName);
      const id = deployed.functionOf(name);
      if (!id) throw new UnmappedCallError(call, `function ${name} is none of the stack's`);
      return [request('lambda:InvokeFunction', deployedArn.function(id))];
    }
  }
  if (call.service === 'DynamoDB' && TABLE_OPERATIONS.has(call.operation)) {
    return [request(`dynamodb:${call.operation}`, table(input.TableName))];
  }
  throw new UnmappedCallError(
    call,
    'no IAM mapping for this operation: add it to infra/testing/least-privilege/iam-requests.ts',
  );
}
