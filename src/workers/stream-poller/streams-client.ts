/**
 * The DynamoDB Streams client for the poller, built like the DynamoDB client
 * (src/platform/dynamodb.ts): same region, endpoint and local credentials, so it reads the
 * streams of the DynamoDB (Local) the app writes to.
 */
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { AppConfig } from '../../config/app-config';
import { LOCAL_CREDENTIALS, REQUEST_HANDLER_OPTIONS } from '../../platform/dynamodb';

export function createDynamoDbStreamsClient(
  config: Pick<AppConfig['dynamodb'], 'region' | 'endpoint'>,
): DynamoDBStreamsClient {
  return new DynamoDBStreamsClient({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint, credentials: LOCAL_CREDENTIALS } : {}),
    // A poll must not hang the loop; the poller retries on its own schedule.
    requestHandler: REQUEST_HANDLER_OPTIONS,
  });
}
