/**
 * Starts one in-memory DynamoDB Local on a free loopback port for the whole run; every
 * test file makes its own uniquely named tables in it (see test-app.ts).
 */
import { freePort } from './ports';
import { DynamoDbLocal } from '../../src/workers/dynamodb-local';

export const ENDPOINT_VARIABLE = 'CARD_STORE_TEST_DYNAMODB_ENDPOINT';

export default async function globalSetup(): Promise<void> {
  const local = await DynamoDbLocal.start({ port: await freePort() });
  (globalThis as { dynamoDbLocal?: DynamoDbLocal }).dynamoDbLocal = local;
  process.env[ENDPOINT_VARIABLE] = local.endpoint;
}
