import type { DynamoDbLocal } from '../../src/workers/dynamodb-local';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { dynamoDbLocal?: DynamoDbLocal }).dynamoDbLocal?.stop();
}
