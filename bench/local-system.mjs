// The built system as `npm start` runs it (package.json's start script, through `sh -c`
// as npm does, so its Node and malloc settings count) on free ports with a fresh data
// folder, for the bench scripts: resolves once the ready banner is printed.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

async function distinctFreePorts(count) {
  const ports = new Set();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

export async function startLocalSystem(label) {
  const dataDir = mkdtempSync(join(tmpdir(), `card-store-${label}-`));
  const [port, dynamoPort, sfnPort, sesPort] = await distinctFreePorts(4);
  const started = performance.now();
  const { scripts } = JSON.parse(readFileSync('package.json', 'utf8'));
  // The script `exec`s Node, so child.pid is Node's own pid.
  const child = spawn('/bin/sh', ['-c', scripts.start], {
    env: {
      ...process.env,
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      PORT: String(port),
      DYNAMODB_LOCAL_PORT: String(dynamoPort),
      SFN_LOCAL_PORT: String(sfnPort),
      SES_LOCAL_PORT: String(sesPort),
      LOCAL_DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      // Thousands of requests from one loopback address (docs/api.md, "Rate limits").
      RATE_LIMIT_SCALE: '1000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('Ctrl-C stops everything')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
  });
  return {
    child,
    dataDir,
    banner: output,
    readyMs: performance.now() - started,
    api: `http://127.0.0.1:${port}`,
    dynamodb: `http://127.0.0.1:${dynamoPort}`,
    ses: `http://127.0.0.1:${sesPort}`,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
