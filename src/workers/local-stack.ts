/**
 * Local mode: the stand-ins for what AWS runs for us. Today DynamoDB Local and the tables;
 * the stream poller, the Step Functions endpoint and the SES inbox join here.
 */
import { join } from 'node:path';
import type { AppConfig } from '../config/app-config';
import { createDynamoDbClient } from '../platform/dynamodb';
import { userTableDefinitions } from '../users/persistence/user-tables';
import { DynamoDbLocal } from './dynamodb-local';
import { ensureTables } from './ensure-tables';

export interface LocalStack {
  /** The configuration with the local endpoints filled in. */
  readonly config: AppConfig;
  /** What runs, for the start-up banner. */
  readonly addresses: Readonly<Record<string, string>>;
  readonly createdTables: readonly string[];
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  /** Keep data in memory instead of under LOCAL_DATA_DIR (tests). */
  readonly inMemory?: boolean;
}

export async function startLocalStack(
  config: AppConfig,
  options: LocalStackOptions = {},
): Promise<LocalStack> {
  const embedded = config.dynamodb.endpoint
    ? undefined
    : await DynamoDbLocal.start({
        port: config.dynamodb.localPort,
        dataDir: options.inMemory ? undefined : join(config.localDataDir, 'dynamodb'),
      });
  const localConfig: AppConfig = {
    ...config,
    dynamodb: { ...config.dynamodb, endpoint: embedded?.endpoint ?? config.dynamodb.endpoint },
  };
  const client = createDynamoDbClient(localConfig.dynamodb);
  try {
    const createdTables = await ensureTables(client, userTableDefinitions(config.dynamodb.tables));
    return {
      config: localConfig,
      addresses: {
        [embedded ? 'DynamoDB Local' : 'DynamoDB']: localConfig.dynamodb.endpoint!,
        ...(embedded && !options.inMemory
          ? { 'DynamoDB data': join(config.localDataDir, 'dynamodb') }
          : {}),
      },
      createdTables,
      stop: async () => {
        await embedded?.stop();
      },
    };
  } catch (error) {
    await embedded?.stop();
    throw error;
  } finally {
    client.destroy();
  }
}
