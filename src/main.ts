/**
 * `npm start`. Local mode (the default): the whole system on one machine with no cloud
 * account; starts the local stand-ins (DynamoDB Local, tables, pipeline), then the API.
 * aws mode (CARD_STORE_MODE=aws): only the API, on this machine, against the deployed
 * tables. Ctrl-C or SIGTERM stops what it started.
 */
import 'reflect-metadata';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from './app.setup';
import { type AppConfig, ConfigError, loadConfig } from './config/app-config';
import { AwsSetupError, assertTablesExist } from './platform/aws-tables';
import { createDynamoDbClient } from './platform/aws/clients';
import { LocalSetupError, portInUse } from './workers/dynamodb-local';
import { startLocalStack } from './workers/local-stack';

/** Argon2id in node:crypto arrived in Node 24.7; `npm start` brings Node 24 with `npm ci`. */
const MINIMUM_NODE = [24, 7] as const;

function assertNodeVersion(): void {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major < MINIMUM_NODE[0] || (major === MINIMUM_NODE[0] && minor < MINIMUM_NODE[1])) {
    fail(
      `Node ${process.versions.node} is too old; card-store needs Node ${MINIMUM_NODE.join('.')} or newer. ` +
        'Run it through npm (`npm start`), which uses the Node 24 that `npm ci` installs.',
    );
  }
}

function fail(message: string): never {
  process.stderr.write(`\ncard-store: ${message}\n\n`);
  process.exit(1);
}

/** Listens on HOST:PORT, turning a taken port into a message that names the variable. */
async function listen(app: NestExpressApplication, config: AppConfig): Promise<void> {
  try {
    await app.listen(config.http.port, config.http.host);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw portInUse('The API', config.http.port, 'PORT');
    }
    throw error;
  }
}

/** Ctrl-C or SIGTERM runs `stop` once, then the process ends. */
function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\ncard-store: ${signal} received, stopping...\n`);
    await stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

/**
 * A stand-in died (DynamoDB Local killed or crashed): without it every request would be a
 * 503, so the whole system stops, saying why, with exit code 1. Nothing restarts it in
 * place; `npm start` again resumes from the data folder (the stream poller's checkpoint,
 * the executions), which is the recovery path the fault suite proves.
 */
async function stopAfterFailure(
  reason: string,
  app: NestExpressApplication,
  stack: { stop(): Promise<void> },
): Promise<never> {
  process.stderr.write(
    `\ncard-store: ${reason}\ncard-store: stopping everything; \`npm start\` starts it again on the same data.\n\n`,
  );
  await app.close().catch(() => undefined);
  await stack.stop().catch(() => undefined);
  process.exit(1);
}

function printBanner(mode: string, lines: readonly string[]): void {
  process.stdout.write(`\ncard-store is running (${mode})\n  ${lines.join('\n  ')}\n\n`);
}

const apiLine = (config: AppConfig) =>
  `API              http://${config.http.host}:${config.http.port}  (public URL ${config.http.publicBaseUrl})`;

/** Where a person starts: the start page (sign in, create an account). */
const pagesLine = (config: AppConfig) => `Start page       ${config.http.publicBaseUrl}/`;

/** Where the API describes itself (API_DOCS), if it does. */
const docsLines = ({ http }: AppConfig): string[] => {
  if (http.apiDocs === 'off') return [];
  const document = `OpenAPI          ${http.publicBaseUrl}/openapi.json`;
  return http.apiDocs === 'ui'
    ? [document, `API docs         ${http.publicBaseUrl}/docs`]
    : [document];
};

async function startLocalMode(config: AppConfig, startedAt: number): Promise<void> {
  const stack = await startLocalStack(config);
  try {
    const stackReadyAt = performance.now();
    const app = await createApp(stack.config);
    await listen(app, config);
    stopOnSignals(async () => {
      await app.close();
      await stack.stop();
    });
    stack.onFailure((reason) => void stopAfterFailure(reason, app, stack));

    const now = performance.now();
    printBanner('local mode', [
      apiLine(config),
      pagesLine(config),
      ...docsLines(config),
      ...Object.entries(stack.addresses).map(([name, address]) => `${name.padEnd(16)} ${address}`),
      ...(stack.createdTables.length > 0
        ? [`Created tables   ${stack.createdTables.join(', ')}`]
        : []),
      `Ready in ${Math.round(now - startedAt)} ms (API ${Math.round(now - stackReadyAt)} ms after DynamoDB). Ctrl-C stops everything.`,
    ]);
  } catch (error) {
    await stack.stop();
    throw error;
  }
}

/**
 * The API alone against the deployed tables, with the default credential chain. Nothing
 * local starts: the stack's stream, state machine and SES send the mails.
 */
async function startAwsMode(config: AppConfig, startedAt: number): Promise<void> {
  const client = createDynamoDbClient(config.dynamodb);
  try {
    await assertTablesExist(client, config.dynamodb);
  } finally {
    client.destroy();
  }
  const app = await createApp(config);
  await listen(app, config);
  stopOnSignals(() => app.close());

  const { users, userEmails, sessions } = config.dynamodb.tables;
  printBanner('AWS mode', [
    apiLine(config),
    ...docsLines(config),
    `Region           ${config.dynamodb.region}`,
    `Tables           ${users}, ${userEmails}, ${sessions}`,
    'Activation mail  sent by the deployed stack (stream, Step Functions, SES)',
    `Ready in ${Math.round(performance.now() - startedAt)} ms. Ctrl-C stops the API.`,
  ]);
}

async function main(): Promise<void> {
  assertNodeVersion();
  const startedAt = performance.now();
  try {
    const config = loadConfig();
    await (config.mode === 'aws'
      ? startAwsMode(config, startedAt)
      : startLocalMode(config, startedAt));
  } catch (error) {
    if (
      error instanceof ConfigError ||
      error instanceof LocalSetupError ||
      error instanceof AwsSetupError
    ) {
      fail(error.message);
    }
    throw error;
  }
}

void main();
