/** Lambda entry of user-table-trigger (what CDK's NodejsFunction bundles). */
import type { DynamoDBStreamHandler } from 'aws-lambda';
import { createUserTableTriggerHandler } from './user-table-trigger.handler';

export const handler: DynamoDBStreamHandler = createUserTableTriggerHandler(process.env);
