/**
 * The API in-process over the real DynamoDB Local of this test run, with tables of its
 * own (random suffix), so test files never see each other's data. Every answer of it is
 * checked against the OpenAPI document it serves (openapi-contract.ts): an answer that
 * breaks the contract fails the test that asked for it.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from '../../src/app.setup';
import { type AppConfig, loadConfig } from '../../src/config/app-config';
import { createDocumentClient, createDynamoDbClient } from '../../src/platform/aws/clients';
import { DynamoDbUserStore } from '../../src/users/persistence/dynamodb-user-store';
import { userTableDefinitions } from '../../src/users/persistence/user-tables';
import { ensureTables } from '../../src/workers/ensure-tables';
import { ENDPOINT_VARIABLE } from './global-setup';
import { checkAnswers } from './openapi-contract';

/** The run's DynamoDB Local; refuses anything that is not on this machine's loopback. */
export function testEndpoint(): string {
  const endpoint = process.env[ENDPOINT_VARIABLE];
  if (!endpoint)
    throw new Error(`${ENDPOINT_VARIABLE} is not set: run the tests with \`npm test\`.`);
  const { hostname } = new URL(endpoint);
  if (hostname !== '127.0.0.1' && hostname !== 'localhost') {
    throw new Error(
      `Refusing to run tests against ${endpoint}: only a loopback DynamoDB Local is allowed.`,
    );
  }
  return endpoint;
}

/** A configuration for tests: this run's DynamoDB Local, fresh table names, no logs. */
export function testConfig(env: NodeJS.ProcessEnv = {}): AppConfig {
  const suffix = randomBytes(4).toString('hex');
  return loadConfig({
    DYNAMODB_ENDPOINT: testEndpoint(),
    USER_TABLE_NAME: `User-${suffix}`,
    USER_EMAIL_TABLE_NAME: `UserEmail-${suffix}`,
    SESSION_TABLE_NAME: `UserSession-${suffix}`,
    RATE_LIMIT_TABLE_NAME: `RateLimit-${suffix}`,
    // Tests send many requests from 127.0.0.1; the rate limits' own tests set it back to 1.
    RATE_LIMIT_SCALE: '1000',
    PUBLIC_BASE_URL: 'http://cards.test',
    LOG_LEVEL: 'silent',
    ...env,
  });
}

export class TestTables {
  readonly client: DynamoDBClient;
  readonly documentClient: DynamoDBDocumentClient;
  readonly users: DynamoDbUserStore;

  constructor(readonly config: AppConfig) {
    this.client = createDynamoDbClient(config.dynamodb);
    this.documentClient = createDocumentClient(this.client);
    this.users = new DynamoDbUserStore(this.documentClient, config.dynamodb.tables);
  }

  async create(): Promise<this> {
    await ensureTables(this.client, userTableDefinitions(this.config.dynamodb.tables));
    return this;
  }

  async drop(): Promise<void> {
    for (const name of Object.values(this.config.dynamodb.tables)) {
      await this.client.send(new DeleteTableCommand({ TableName: name })).catch(() => undefined);
    }
    this.client.destroy();
  }
}

export interface TestApp {
  readonly app: NestExpressApplication;
  readonly http: Server;
  readonly config: AppConfig;
  readonly tables: TestTables;
  close(): Promise<void>;
}

/**
 * createApp, initialised, its answers checked against the OpenAPI contract: for a test
 * that needs an app of its own configuration (createTestApp makes the usual one).
 */
export async function checkedApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = checkAnswers(await createApp(config));
  await app.init();
  return app;
}

/** Starts the API over fresh tables. Pass `tables` to put a second instance on the same data. */
export async function createTestApp(
  options: { env?: NodeJS.ProcessEnv; tables?: TestTables } = {},
): Promise<TestApp> {
  const tables = options.tables ?? (await new TestTables(testConfig(options.env)).create());
  const app = await checkedApp(tables.config);
  return {
    app,
    http: app.getHttpServer() as Server,
    config: tables.config,
    tables,
    close: async () => {
      await app.close();
      if (!options.tables) await tables.drop();
    },
  };
}
