/**
 * Starts one in-memory DynamoDB Local on a free loopback port for the whole run; every
 * test file makes its own uniquely named tables in it (see test-app.ts).
 */
import { createServer } from 'node:net';
import { DynamoDbLocal, LOOPBACK } from '../../src/workers/dynamodb-local';

export const ENDPOINT_VARIABLE = 'CARD_STORE_TEST_DYNAMODB_ENDPOINT';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

export default async function globalSetup(): Promise<void> {
  const local = await DynamoDbLocal.start({ port: await freePort() });
  (globalThis as { dynamoDbLocal?: DynamoDbLocal }).dynamoDbLocal = local;
  process.env[ENDPOINT_VARIABLE] = local.endpoint;
}
