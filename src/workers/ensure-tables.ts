/**
 * Creates the tables that are missing (local mode and tests; on AWS the CDK stack owns
 * them). Existing tables are left as they are, so data survives restarts.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import type { TableDefinition } from '../users/persistence/user-tables';

async function exists(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}

/** @returns the names of the tables it created */
export async function ensureTables(
  client: DynamoDBClient,
  definitions: readonly TableDefinition[],
): Promise<string[]> {
  const created: string[] = [];
  for (const { create, ttlAttribute } of definitions) {
    const TableName = create.TableName!;
    if (!(await exists(client, TableName))) {
      await client.send(new CreateTableCommand(create));
      await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1 }, { TableName });
      created.push(TableName);
    }
    if (ttlAttribute) {
      const { TimeToLiveDescription } = await client.send(
        new DescribeTimeToLiveCommand({ TableName }),
      );
      if (TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
        await client.send(
          new UpdateTimeToLiveCommand({
            TableName,
            TimeToLiveSpecification: { Enabled: true, AttributeName: ttlAttribute },
          }),
        );
      }
    }
  }
  return created;
}
