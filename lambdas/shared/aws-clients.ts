/**
 * The Lambdas' AWS clients, built once per handler. The same clients serve local mode and
 * AWS: an `*_ENDPOINT` variable points one at a local stand-in (DynamoDB Local, the local
 * SES and Step Functions) with dummy credentials; without it the client uses the default
 * AWS credential chain (the function's role).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESClient } from '@aws-sdk/client-ses';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Only well-formed; the local stand-ins accept any. Never sent to AWS. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export interface ClientSettings {
  readonly region: string;
  /** A local stand-in; unset means the AWS service of `region`. */
  readonly endpoint?: string;
}

function connection(settings: ClientSettings) {
  return {
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint, credentials: LOCAL_CREDENTIALS } : {}),
    // Fail a hung call well inside the function's timeout instead of using it all up
    // (without throwOnRequestTimeout the SDK only logs a warning and keeps waiting).
    requestHandler: {
      connectionTimeout: 2_000,
      requestTimeout: 5_000,
      throwOnRequestTimeout: true,
    },
  };
}

export function createDocumentClient(settings: ClientSettings): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(connection(settings)), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/**
 * No SDK retries: SES has no idempotency key, so a retry after a timeout could send a
 * second mail. The state machine retries instead, guarded by the core's send claim.
 */
export function createSesClient(settings: ClientSettings): SESClient {
  return new SESClient({ ...connection(settings), maxAttempts: 1 });
}

/** StartExecution is idempotent by execution name, so the SDK's retries are safe. */
export function createSfnClient(settings: ClientSettings): SFNClient {
  return new SFNClient(connection(settings));
}
