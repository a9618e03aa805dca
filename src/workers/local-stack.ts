/**
 * Local mode: the stand-ins for what AWS runs for us. DynamoDB Local and the tables, then
 * the activation pipeline (stream poller, Step Functions endpoint, SES inbox).
 */
import { join } from 'node:path';
import { pino } from 'pino';
import type { AppConfig } from '../config/app-config';
import { createDynamoDbClient } from '../platform/aws/clients';
import { userTableDefinitions } from '../users/persistence/user-tables';
import { type ActivationPipelineOptions, LocalActivationPipeline } from './activation-pipeline';
import { DynamoDbLocal, type DynamoDbLocalExit } from './dynamodb-local';
import { ensureTables } from './ensure-tables';

export interface LocalStack {
  /** The configuration with the local endpoints filled in. */
  readonly config: AppConfig;
  /** What runs, for the start-up banner. */
  readonly addresses: Readonly<Record<string, string>>;
  readonly createdTables: readonly string[];
  readonly pipeline: LocalActivationPipeline;
  /**
   * Calls `listener` when a stand-in this stack started dies on its own (DynamoDB Local
   * killed or crashed). Nothing restarts it: the system cannot work without it.
   */
  onFailure(listener: (reason: string) => void): void;
  stop(): Promise<void>;
}

export interface LocalStackOptions extends Pick<
  ActivationPipelineOptions,
  'retryIntervalOverrides' | 'pollIntervalMs'
> {
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
    const pipeline = await LocalActivationPipeline.start(localConfig, {
      dataDir: options.inMemory ? undefined : config.localDataDir,
      logger: pino({ level: config.logLevel }),
      retryIntervalOverrides: options.retryIntervalOverrides,
      pollIntervalMs: options.pollIntervalMs,
    });
    return {
      config: localConfig,
      addresses: {
        [embedded ? 'DynamoDB Local' : 'DynamoDB']: localConfig.dynamodb.endpoint!,
        ...(embedded && !options.inMemory
          ? { 'DynamoDB data': join(config.localDataDir, 'dynamodb') }
          : {}),
        ...pipeline.addresses(),
      },
      createdTables,
      pipeline,
      onFailure: (listener) => embedded?.onUnexpectedExit((exit) => listener(describeExit(exit))),
      stop: async () => {
        await pipeline.stop();
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

function describeExit({ code, signal, stderrTail }: DynamoDbLocalExit): string {
  const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
  return `DynamoDB Local ${how}${stderrTail ? `; its last output:\n${stderrTail}` : ''}`;
}
