/**
 * Every AWS SDK client card-store builds, in one place: the API's, the Lambdas' and the
 * local stand-ins'. The same clients serve local mode and AWS; only endpoint and
 * credentials differ. An `endpoint` points a client at a local stand-in (DynamoDB Local,
 * the local SES and Step Functions) with dummy credentials; without one it uses the default
 * AWS credential chain (on Lambda: the function's role).
 *
 * A client built for a component (`principal`) says so in its user agent
 * (`app/card-store.<principal>`, visible in CloudTrail) and reports each call to the
 * observers of aws/call-observers.ts, which tests use to prove every call allowed by that
 * component's role. Clients without a principal (start-up checks, tooling, tests' own
 * reads) report nothing.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SESClient } from '@aws-sdk/client-ses';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MiddlewareStack } from '@smithy/types';
import { reportAwsCall } from './call-observers';
import type { AwsPrincipal } from './principals';

/**
 * Credentials for a local endpoint: only well-formed, the local stand-ins accept any
 * (DynamoDB Local runs with `-sharedDb`). Never sent to AWS.
 */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/**
 * Fail a hung call well inside a request's or a function's time instead of using it all
 * up; the SDK retries transient errors. `throwOnRequestTimeout`: without it the SDK only
 * logs a warning when requestTimeout passes and keeps waiting.
 */
export const REQUEST_HANDLER_OPTIONS = {
  connectionTimeout: 2_000,
  requestTimeout: 5_000,
  throwOnRequestTimeout: true,
} as const;

export interface AwsClientSettings {
  readonly region: string;
  /** A local stand-in; unset means the AWS service of `region`. */
  readonly endpoint?: string;
  /** The component whose role makes these calls on AWS; unset for tooling. */
  readonly principal?: AwsPrincipal;
}

function connection(settings: AwsClientSettings) {
  return {
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint, credentials: LOCAL_CREDENTIALS } : {}),
    ...(settings.principal ? { userAgentAppId: `card-store.${settings.principal}` } : {}),
    requestHandler: REQUEST_HANDLER_OPTIONS,
  };
}

/**
 * Reports each call of the client whose stack this is as `principal`'s, at the build step:
 * after a DocumentClient command has marshalled its input into the low-level operation
 * (`GetItem`, not `Get`), once per call whatever the SDK retries.
 */
function reportCalls<Input extends object, Output extends object>(
  stack: MiddlewareStack<Input, Output>,
  { principal, region }: AwsClientSettings,
): void {
  if (!principal) return;
  stack.add(
    (next, context) => async (args) => {
      reportAwsCall({
        principal,
        service: String(context.clientName).replace(/Client$/, ''),
        operation: String(context.commandName).replace(/Command$/, ''),
        region,
        input: args.input,
      });
      return next(args);
    },
    { step: 'build', name: 'cardStoreReportAwsCall' },
  );
}

export function createDynamoDbClient(settings: AwsClientSettings): DynamoDBClient {
  const client = new DynamoDBClient(connection(settings));
  reportCalls(client.middlewareStack, settings);
  return client;
}

/**
 * Plain JavaScript values in and out; shares `client`'s connection and its reporting.
 * `exactNumbers`: numbers come out as `NumberValue`s, which go back in digit for digit
 * (for copying items whose numbers a JavaScript number could round: the legacy migration).
 */
export function createDocumentClient(
  client: DynamoDBClient,
  options: { readonly exactNumbers?: boolean } = {},
): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
    ...(options.exactNumbers ? { unmarshallOptions: { wrapNumbers: true } } : {}),
  });
}

export function createDynamoDbStreamsClient(settings: AwsClientSettings): DynamoDBStreamsClient {
  const client = new DynamoDBStreamsClient(connection(settings));
  reportCalls(client.middlewareStack, settings);
  return client;
}

/**
 * No SDK retries: SES has no idempotency key, so a retry after a timeout could send a
 * second mail. The state machine retries instead, guarded by the core's send claim.
 */
export function createSesClient(settings: AwsClientSettings): SESClient {
  const client = new SESClient({ ...connection(settings), maxAttempts: 1 });
  reportCalls(client.middlewareStack, settings);
  return client;
}

/** StartExecution is idempotent by execution name, so the SDK's retries are safe. */
export function createSfnClient(settings: AwsClientSettings): SFNClient {
  const client = new SFNClient(connection(settings));
  reportCalls(client.middlewareStack, settings);
  return client;
}
