/**
 * DynamoDB clients, built the same way for DynamoDB Local and for AWS: only the endpoint
 * and the credentials differ.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AppConfig } from '../config/app-config';

/**
 * Credentials for a local endpoint. DynamoDB Local runs with `-sharedDb`, so it ignores
 * them; they only have to be well-formed. Never used against AWS.
 */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/**
 * Fail a hung call instead of holding a request open; the SDK retries transient errors.
 * `throwOnRequestTimeout`: without it the SDK only logs a warning when requestTimeout
 * passes and keeps waiting.
 */
export const REQUEST_HANDLER_OPTIONS = {
  connectionTimeout: 2_000,
  requestTimeout: 5_000,
  throwOnRequestTimeout: true,
} as const;

export function createDynamoDbClient(config: AppConfig['dynamodb']): DynamoDBClient {
  return new DynamoDBClient({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint, credentials: LOCAL_CREDENTIALS } : {}),
    requestHandler: REQUEST_HANDLER_OPTIONS,
  });
}

export function createDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}
