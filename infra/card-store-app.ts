/**
 * The CDK app's contents, shared by the `cdk` entry (infra/bin) and the tests: one
 * CardStoreStack, and cdk-nag's AwsSolutions pack as a validation plugin, so that a finding
 * nobody acknowledged fails the synth (`npm run synth`, `npm run deploy`, the tests).
 *
 * Context (`-c name=value`, docs/deploy.md "Commands"):
 * - `stackName`: default `CardStore`; one stack per name, account and region.
 * - `retainData`: `true` (default) keeps the tables on destroy and protects them from
 *   deletion; `false` is for throw-away stacks.
 * - `userTableName` and `userTableStreamArn`, together: run on the Spring app's existing
 *   User table in place instead of a new one (docs/taking-over-the-spring-app.md).
 */
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CardStoreStack } from './card-store-stack';

export const DEFAULT_STACK_NAME = 'CardStore';

export function defineCardStoreApp(app: App): CardStoreStack {
  const stackName = String(app.node.tryGetContext('stackName') ?? DEFAULT_STACK_NAME);
  const retainData = String(app.node.tryGetContext('retainData') ?? 'true') !== 'false';
  const tableName = app.node.tryGetContext('userTableName') as string | undefined;
  const streamArn = app.node.tryGetContext('userTableStreamArn') as string | undefined;
  if ((tableName === undefined) !== (streamArn === undefined)) {
    throw new Error(
      'Give userTableName and userTableStreamArn together (the existing table and its NEW_IMAGE stream), or neither.',
    );
  }
  const stack = new CardStoreStack(app, stackName, {
    stackName,
    retainData,
    ...(tableName && streamArn ? { existingUserTable: { tableName, streamArn } } : {}),
    description:
      'card-store: user sign-up with mail activation (NestJS, DynamoDB, Step Functions, SES)',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
