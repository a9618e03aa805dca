/**
 * Drives the compiled local launcher the way `npm start` runs it
 * (`node dist/src/main.js` from the repository root) and looks at what it leaves behind:
 * its output, its exit, the DynamoDB Local Java process and the ports.
 *
 * Needs `npm run build` first (`npm test` does that in pretest).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const ENTRY = 'dist/src/main.js';
export const BANNER = 'card-store is running (local mode)';
export const AWS_BANNER = 'card-store is running (AWS mode)';

/** Every variable the app reads (src/config/app-config.ts): none may leak in from the caller's shell. */
const CONFIG_VARIABLES = [
  'CARD_STORE_MODE',
  'HOST',
  'PORT',
  'PUBLIC_BASE_URL',
  'AWS_REGION',
  'DYNAMODB_ENDPOINT',
  'DYNAMODB_LOCAL_PORT',
  'LOCAL_DATA_DIR',
  'USER_TABLE_NAME',
  'USER_EMAIL_TABLE_NAME',
  'SESSION_TABLE_NAME',
  'RATE_LIMIT_TABLE_NAME',
  'RATE_LIMIT_SCALE',
  'ALLOW_RATE_LIMIT_SCALE_IN_AWS',
  'SESSION_TTL_SECONDS',
  'LOG_LEVEL',
  'FROM_ADDRESS',
  'ACTIVATION_TOKEN_TTL_SECONDS',
  'PASSWORD_RESET_TOKEN_TTL_SECONDS',
  'ACTIVATION_MAIL_LEASE_SECONDS',
  'SFN_ENDPOINT',
  'SFN_LOCAL_PORT',
  'STATE_MACHINE_NAME',
  'SES_ENDPOINT',
  'SES_LOCAL_PORT',
];

export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `card-store-${label}-`));
}

export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** Holds a port on 127.0.0.1 (as something else running would). */
export async function occupyPort(port: number): Promise<Server> {
  return new Promise((resolveServer, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolveServer(server));
  });
}

export async function release(server: Server | undefined): Promise<void> {
  if (!server?.listening) return;
  await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
}

/**
 * Polls until the port can be bound on 127.0.0.1; false if it still cannot at the deadline.
 * (A dying JVM may hold its socket a moment after its command line is gone from /proc.)
 */
export async function waitForPortFree(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await isPortFree(port)) return true;
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
}

/** Whether this process could listen on 127.0.0.1:port right now. */
export async function isPortFree(port: number): Promise<boolean> {
  try {
    await release(await occupyPort(port));
    return true;
  } catch {
    return false;
  }
}

export interface LauncherSettings {
  readonly port: number;
  readonly dynamoDbPort: number;
  readonly sfnPort: number;
  readonly sesPort: number;
  readonly dataDir: string;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** The environment of `npm start` for one test: the caller's, minus any app config, plus ours. */
export function launcherEnv(
  settings: LauncherSettings,
  overrides: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of CONFIG_VARIABLES) delete env[name];
  return {
    ...env,
    PORT: String(settings.port),
    DYNAMODB_LOCAL_PORT: String(settings.dynamoDbPort),
    SFN_LOCAL_PORT: String(settings.sfnPort),
    SES_LOCAL_PORT: String(settings.sesPort),
    LOCAL_DATA_DIR: settings.dataDir,
    LOG_LEVEL: 'warn',
    // The suites' bursts come from one loopback address (docs/api.md, "Rate limits").
    RATE_LIMIT_SCALE: '1000',
    ...overrides,
  };
}

/** One `node dist/src/main.js` process and everything it printed so far. */
export class Launcher {
  stdout = '';
  stderr = '';
  exit: Exit | undefined;
  private readonly closed: Promise<Exit>;

  private constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    // 'close' rather than 'exit': by then every byte of stdout/stderr has been read.
    this.closed = new Promise((resolveExit) =>
      child.once('close', (code, signal) => {
        this.exit = { code, signal };
        resolveExit(this.exit);
      }),
    );
  }

  /** Spawns the compiled entry directly. */
  static start(env: NodeJS.ProcessEnv): Launcher {
    const child = spawn(process.execPath, [ENTRY], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so kill() can end whatever it left behind
    });
    return new Launcher(child);
  }

  /**
   * Runs package.json's `start` script through `sh -c`, as npm does, so that a signal sent
   * to this child is the signal npm forwards to its script: it must reach Node, not only a
   * shell that would die and leave Node and Java behind. The script's `node` is this Node.
   */
  static startScript(env: NodeJS.ProcessEnv): Launcher {
    const { scripts } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const child = spawn('/bin/sh', ['-c', scripts.start!], {
      cwd: REPO_ROOT,
      env: { ...env, PATH: `${dirname(process.execPath)}:${env.PATH ?? ''}` },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    return new Launcher(child);
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /**
   * Resolves with the whole banner (`heading` up to its "Ctrl-C stops ..." line) once it is
   * printed; rejects if the process ends first.
   */
  async waitForBanner(timeoutMs = 50_000, heading = BANNER): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const start = this.stdout.indexOf(heading);
      const end = start < 0 ? -1 : this.stdout.indexOf('Ctrl-C stops', start);
      if (end >= 0) return this.stdout.slice(start, end);
      if (!this.running) {
        throw new Error(
          `The launcher ended (${JSON.stringify(this.exit)}) before its banner.\n${this.output()}`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(`No banner within ${timeoutMs} ms.\n${this.output()}`);
      }
      await sleep(50);
    }
  }

  /** Resolves with the exit; rejects if the process is still running after timeoutMs. */
  async waitForExit(timeoutMs: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`The launcher still runs after ${timeoutMs} ms.\n${this.output()}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a signal and measures how long the process takes to end. */
  async signalAndWait(
    signal: NodeJS.Signals,
    timeoutMs: number,
  ): Promise<Exit & { readonly ms: number }> {
    const sentAt = Date.now();
    this.child.kill(signal);
    const exit = await this.waitForExit(timeoutMs);
    return { ...exit, ms: Date.now() - sentAt };
  }

  /**
   * For cleanup: ends the process and its group for sure, whatever state a failed test left
   * them in (a shell that died and left Node holding our pipes, for one).
   */
  async kill(): Promise<void> {
    if (!this.running) return;
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      // the group is gone already
    }
    await this.closed;
  }

  output(): string {
    return `--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The DynamoDB Local Java processes serving this data directory: their command line holds
 * `-dbPath <LOCAL_DATA_DIR>/dynamodb`, which no other process on the machine has.
 */
export function javaPidsFor(dataDir: string): number[] {
  const pattern = `-dbPath ${escapeRegExp(join(dataDir, 'dynamodb'))}( |$)`;
  try {
    const out = execFileSync('pgrep', ['-f', '--', pattern], { encoding: 'utf8' });
    return out.split('\n').filter(Boolean).map(Number);
  } catch (error) {
    // pgrep exits 1 when nothing matches; anything else (no pgrep at all) is a real problem.
    if ((error as { status?: number }).status === 1) return [];
    throw new Error(`pgrep failed: ${(error as Error).message}`, { cause: error });
  }
}

/** Polls until no Java process serves the data directory; returns what is still left at the deadline. */
export async function waitForJavaGone(dataDir: string, timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = javaPidsFor(dataDir);
    if (pids.length === 0 || Date.now() > deadline) return pids;
    await sleep(100);
  }
}

/** Cleanup after a failed test: no Java process of ours may outlive the run. */
export function killJavaFor(dataDir: string | undefined): void {
  if (!dataDir) return;
  for (const pid of javaPidsFor(dataDir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export function hasCommand(command: string): boolean {
  const paths = (process.env.PATH ?? '').split(':').filter(Boolean);
  return paths.some((dir) => existsSync(join(dir, command)));
}

/**
 * The local addresses of the TCP listeners on `port`, from `ss -ltnH`
 * (e.g. `127.0.0.1`, `[::ffff:127.0.0.1]`, `*`, `0.0.0.0`, `[::]`).
 */
export function listeningAddresses(port: number): string[] {
  const out = execFileSync('ss', ['-ltnH'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[3])
    .filter((local): local is string => local !== undefined && local.endsWith(`:${port}`))
    .map((local) => local.slice(0, local.lastIndexOf(':')));
}

export async function httpJson(
  baseUrl: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** A Node or Java stack frame in the output means an error reached the user unhandled. */
export const STACK_FRAME = /^\s+at \S/m;

export { distinctFreePorts } from '../support/ports';
