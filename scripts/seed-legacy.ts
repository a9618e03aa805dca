/**
 * Loads the Spring app's items (test/fixtures/spring-app-users.json: each generation, as
 * DynamoDBMapper wrote them) into the User table of the running local system, for trying
 * the take-over by hand (docs/taking-over-the-spring-app.md). Run `npm start` first, then
 * `npm run seed:legacy`. Writes each item as it is, with PutItem, only where its username
 * is free: running it again changes nothing. Refuses to run in aws mode.
 *
 * Reads the configuration like the app (DYNAMODB_LOCAL_PORT, USER_TABLE_NAME, ...).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { loadConfig } from '../src/config/app-config';
import { createDynamoDbClient } from '../src/platform/aws/clients';

export const SPRING_APP_FIXTURES = join(
  __dirname,
  '..',
  'test',
  'fixtures',
  'spring-app-users.json',
);

interface Fixtures {
  readonly items: readonly {
    readonly case: string;
    readonly item: Record<string, AttributeValue>;
  }[];
}

export function springAppItems(): Fixtures['items'] {
  return (JSON.parse(readFileSync(SPRING_APP_FIXTURES, 'utf8')) as Fixtures).items;
}

async function main(): Promise<void> {
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent' });
  if (config.mode !== 'local') {
    throw new Error('seed:legacy writes test fixtures: it runs against the local system only.');
  }
  // The running system's DynamoDB Local, unless DYNAMODB_ENDPOINT names another one.
  const endpoint = config.dynamodb.endpoint ?? `http://127.0.0.1:${config.dynamodb.localPort}`;
  const client = createDynamoDbClient({ region: config.dynamodb.region, endpoint });
  const table = config.dynamodb.tables.users;
  let written = 0;
  try {
    for (const { case: description, item } of springAppItems()) {
      const username = item.username?.S ?? '?';
      try {
        await client.send(
          new PutItemCommand({
            TableName: table,
            Item: item,
            ConditionExpression: 'attribute_not_exists(username)',
          }),
        );
        written += 1;
        process.stdout.write(`  wrote    ${username.padEnd(16)} ${description}\n`);
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        process.stdout.write(`  kept     ${username.padEnd(16)} (its username is taken)\n`);
      }
    }
  } finally {
    client.destroy();
  }
  process.stdout.write(`${written} Spring app item(s) written to ${table} at ${endpoint}.\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `seed:legacy: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  });
}
