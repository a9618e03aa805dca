/**
 * Creates the tables that are missing (local mode and tests; on AWS the CDK stack owns
 * them). Existing tables are left as they are, so data survives restarts, unless their
 * key schema is not the one defined: a disposable table (sessions) is then created anew,
 * and any other stops the start with an error that says so.
 */
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  type KeySchemaElement,
  waitUntilTableExists,
  waitUntilTableNotExists,
} from '@aws-sdk/client-dynamodb';
import type { TableDefinition } from '../users/persistence/user-tables';

/** The table's key schema, or undefined when there is no such table. */
async function keySchemaOf(
  client: DynamoDBClient,
  tableName: string,
): Promise<KeySchemaElement[] | undefined> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    return Table?.KeySchema ?? [];
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

const keysText = (schema: readonly KeySchemaElement[] = []) =>
  schema.map((key) => `${key.AttributeName} (${key.KeyType})`).join(', ');

/** @returns the names of the tables it created */
export async function ensureTables(
  client: DynamoDBClient,
  definitions: readonly TableDefinition[],
): Promise<string[]> {
  const created: string[] = [];
  for (const { create, ttlAttribute, disposable } of definitions) {
    const TableName = create.TableName!;
    let schema = await keySchemaOf(client, TableName);
    if (schema !== undefined && keysText(schema) !== keysText(create.KeySchema)) {
      if (!disposable) {
        throw new Error(
          `Table ${TableName} has the keys ${keysText(schema)}, not ${keysText(create.KeySchema)}: ` +
            'move its items to a table of the new keys, or delete the local data folder.',
        );
      }
      await client.send(new DeleteTableCommand({ TableName }));
      await waitUntilTableNotExists({ client, maxWaitTime: 30, minDelay: 1 }, { TableName });
      schema = undefined;
    }
    if (schema === undefined) {
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
