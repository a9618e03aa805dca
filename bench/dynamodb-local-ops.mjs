// DynamoDB Local's own cost, as the local system starts it (src/workers/dynamodb-local.ts,
// with its JVM flags): PutItem + GetItem + UpdateItem per user on a table with a stream,
// 10 users in flight, in three rounds (1,000, 2,000 and 3,000 users; the JIT warms up over
// the first); prints operations/s and the JVM's CPU per operation for each round.
// Loopback only. Run: npm run bench:dynamodb
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const { DynamoDbLocal } = require('../dist/src/workers/dynamodb-local.js');
const { CreateTableCommand, DynamoDBClient } = require('@aws-sdk/client-dynamodb');
const {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} = require('@aws-sdk/lib-dynamodb');

const IN_FLIGHT = 10;
const dataDir = mkdtempSync(join(tmpdir(), 'card-store-dynamodb-ops-'));
const port = 20_000 + Math.floor(Math.random() * 10_000);
const local = await DynamoDbLocal.start({ port, dataDir });
const java = Number(
  execFileSync('pgrep', ['-n', '-f', '--', `-port ${port}`])
    .toString()
    .trim(),
);
const cpuSeconds = () => {
  const fields = readFileSync(`/proc/${java}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
const client = new DynamoDBClient({
  endpoint: local.endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const doc = DynamoDBDocumentClient.from(client);
const TableName = 'User';

async function round(tag, users) {
  let next = 0;
  const cpuBefore = cpuSeconds();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < users) {
        const username = `${tag}${next++}`;
        await doc.send(
          new PutCommand({
            TableName,
            Item: { username, email: `${username}@ops.example`, activationStatus: 'NONE' },
          }),
        );
        await doc.send(new GetCommand({ TableName, Key: { username }, ConsistentRead: true }));
        await doc.send(
          new UpdateCommand({
            TableName,
            Key: { username },
            UpdateExpression: 'SET activationStatus = :sent',
            ConditionExpression: 'activationStatus = :none',
            ExpressionAttributeValues: { ':sent': 'MAIL_SENT', ':none': 'NONE' },
          }),
        );
      }
    }),
  );
  const operations = 3 * users;
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `  ${users} users: ${(operations / seconds).toFixed(0)} operations/s, ` +
      `Java CPU ${(((cpuSeconds() - cpuBefore) * 1000) / operations).toFixed(2)} ms per operation`,
  );
}

try {
  await client.send(
    new CreateTableCommand({
      TableName,
      KeySchema: [{ AttributeName: 'username', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'username', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  console.log(`DynamoDB Local (${IN_FLIGHT} in flight, a table with a stream, on disk):`);
  await round('a', 1_000);
  await round('b', 2_000);
  await round('c', 3_000);
} finally {
  client.destroy();
  await local.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
