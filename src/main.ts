/**
 * `npm start`: the whole system on one machine with no cloud account. Starts the local
 * stand-ins (DynamoDB Local, tables), then the API; Ctrl-C or SIGTERM stops all of it.
 */
import 'reflect-metadata';
import { createApp } from './app.setup';
import { ConfigError, loadConfig } from './config/app-config';
import { LocalSetupError, portInUse } from './workers/dynamodb-local';
import { type LocalStack, startLocalStack } from './workers/local-stack';

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

async function main(): Promise<void> {
  assertNodeVersion();
  const startedAt = performance.now();
  let stack: LocalStack | undefined;
  try {
    const config = loadConfig();
    stack = await startLocalStack(config);
    const stackReadyAt = performance.now();
    const app = await createApp(stack.config);
    try {
      await app.listen(config.http.port, config.http.host);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw portInUse('The API', config.http.port, 'PORT');
      }
      throw error;
    }

    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`\ncard-store: ${signal} received, stopping...\n`);
      await app.close();
      await stack?.stop();
      process.exit(0);
    };
    process.once('SIGINT', () => void shutdown('SIGINT'));
    process.once('SIGTERM', () => void shutdown('SIGTERM'));

    const now = performance.now();
    const lines = [
      `API              http://${config.http.host}:${config.http.port}  (public URL ${config.http.publicBaseUrl})`,
      ...Object.entries(stack.addresses).map(([name, address]) => `${name.padEnd(16)} ${address}`),
      ...(stack.createdTables.length > 0
        ? [`Created tables   ${stack.createdTables.join(', ')}`]
        : []),
      `Ready in ${Math.round(now - startedAt)} ms (API ${Math.round(now - stackReadyAt)} ms after DynamoDB). Ctrl-C stops everything.`,
    ];
    process.stdout.write(`\ncard-store is running (local mode)\n  ${lines.join('\n  ')}\n\n`);
  } catch (error) {
    await stack?.stop();
    if (error instanceof ConfigError || error instanceof LocalSetupError) fail(error.message);
    throw error;
  }
}

void main();
