/**
 * End to end tests of `npm start` (src/main.ts): the compiled entry point run as a child
 * process, with its own DynamoDB Local (Java) on free ports and a fresh LOCAL_DATA_DIR.
 *
 * A start takes a few seconds (Java compiles the loopback launcher), so the tests of a
 * running launcher share one process, and the lifecycle tests run in order on one data
 * directory: start → SIGTERM → restart on the same data → SIGKILL. Whatever a failing test
 * leaves running is killed in afterEach/afterAll.
 */
import { existsSync } from 'node:fs';
import type { Server } from 'node:net';
import { join } from 'node:path';
import {
  BANNER,
  distinctFreePorts,
  hasCommand,
  httpJson,
  isPortFree,
  javaPidsFor,
  killJavaFor,
  Launcher,
  launcherEnv,
  type LauncherSettings,
  listeningAddresses,
  occupyPort,
  release,
  removeDir,
  STACK_FRAME,
  tempDir,
  waitForJavaGone,
  waitForPortFree,
} from './launcher';

// A start is ~5 s on an idle machine, but Java compiling on a busy one can take much longer.
jest.setTimeout(60_000);

const ANN = {
  username: 'ann',
  email: 'ann@example.org',
  name: 'Ann Example',
  password: 'correct horse battery',
};
const LOOPBACK_ADDRESSES = ['127.0.0.1', '[::ffff:127.0.0.1]'];

/** Four different free ports: API, DynamoDB Local, Step Functions, SES. */
async function freshSettings(label: string): Promise<LauncherSettings> {
  const [port, dynamoDbPort, sfnPort, sesPort] = (await distinctFreePorts(4)) as [
    number,
    number,
    number,
    number,
  ];
  return { port, dynamoDbPort, sfnPort, sesPort, dataDir: tempDir(label) };
}

describe('npm start (local launcher)', () => {
  describe('over one data directory, from first start to a killed restart', () => {
    let settings: LauncherSettings;
    let baseUrl: string;
    let first: Launcher;
    let firstBanner: string;
    let second: Launcher | undefined;
    let third: Launcher | undefined;

    beforeAll(async () => {
      settings = await freshSettings('lifecycle');
      baseUrl = `http://127.0.0.1:${settings.port}`;
      // The first run goes through package.json's start script, as `npm start` runs it.
      first = Launcher.startScript(launcherEnv(settings));
      firstBanner = await first.waitForBanner();
    });

    afterAll(async () => {
      await first?.kill();
      await second?.kill();
      await third?.kill();
      killJavaFor(settings?.dataDir);
      removeDir(settings?.dataDir);
    });

    it('prints the banner with the API, DynamoDB Local, SES inbox and Step Functions addresses', () => {
      // Arrange: `first` started in beforeAll.

      // Act
      const banner = firstBanner;

      // Assert
      expect(banner.startsWith(BANNER)).toBe(true);
      expect(banner).toContain(`API              http://127.0.0.1:${settings.port}`);
      expect(banner).toMatch(/^ {2}Start page {7}http:\/\/\S+\/$/m);
      expect(banner).toMatch(/^ {2}OpenAPI {10}http:\/\/\S+\/openapi\.json$/m);
      expect(banner).toMatch(/^ {2}API docs {9}http:\/\/\S+\/docs$/m);
      expect(banner).toContain(`DynamoDB Local   http://127.0.0.1:${settings.dynamoDbPort}`);
      expect(banner).toContain(`DynamoDB data    ${settings.dataDir}/dynamodb`);
      expect(banner).toContain('Created tables   User, UserEmail, UserSession, RateLimit');
      expect(banner).toContain(`SES inbox        http://127.0.0.1:${settings.sesPort}/`);
      expect(banner).toContain(`Step Functions   http://127.0.0.1:${settings.sfnPort}`);
      expect(banner).toContain(
        'State machine    arn:aws:states:us-east-1:000000000000:stateMachine:SF_CardStore_SendUserActivationMail',
      );
    });

    it('reports healthy, registers a user and refuses their sign-in until activation', async () => {
      // Arrange: `first` running.

      // Act
      const health = await httpJson(baseUrl, 'GET', '/health');
      const registration = await httpJson(baseUrl, 'POST', '/users', ANN);
      const login = await httpJson(baseUrl, 'POST', '/login', {
        username: ANN.username,
        password: ANN.password,
      });

      // Assert
      expect(health).toEqual({ status: 200, body: { status: 'ok', checks: { dynamodb: 'up' } } });
      expect(registration.status).toBe(201);
      expect(registration.body).toMatchObject({ username: 'ann', activationStatus: 'NONE' });
      expect(registration.body).not.toHaveProperty('password');
      expect(login.status).toBe(403);
      expect(login.body).toMatchObject({ code: 'ACCOUNT_NOT_ACTIVATED' });
    });

    it('binds DynamoDB Local, Step Functions and SES to 127.0.0.1 only', () => {
      // Arrange
      if (!hasCommand('ss')) {
        process.stderr.write(
          'NOT CHECKED: `ss` (iproute2) is not installed, so the DynamoDB Local bind address cannot be read.\n',
        );
        return;
      }

      // Act
      const bound = [settings.dynamoDbPort, settings.sfnPort, settings.sesPort].map(
        listeningAddresses,
      );

      // Assert
      for (const addresses of bound) {
        expect(addresses.length).toBeGreaterThan(0);
        for (const address of addresses) expect(LOOPBACK_ADDRESSES).toContain(address);
      }
    });

    it('stops on SIGTERM to the start script with exit code 0 within seconds, ending Java and freeing both ports', async () => {
      // Arrange
      const javaBefore = javaPidsFor(settings.dataDir);

      // Act
      const exit = await first.signalAndWait('SIGTERM', 10_000);

      // Assert
      expect(javaBefore).toHaveLength(1);
      expect(exit).toMatchObject({ code: 0, signal: null });
      expect(exit.ms).toBeLessThan(5_000);
      expect(first.stdout).toContain('card-store: SIGTERM received, stopping...');
      expect(first.stderr).not.toMatch(STACK_FRAME);
      expect(javaPidsFor(settings.dataDir)).toEqual([]);
      expect(await isPortFree(settings.port)).toBe(true);
      expect(await isPortFree(settings.dynamoDbPort)).toBe(true);
    });

    it('keeps the data of the previous run: the user registered before still exists', async () => {
      // Arrange: the first run registered ANN and ended; make sure it did, even if a test above failed.
      await first.kill();
      killJavaFor(settings.dataDir);
      second = Launcher.start(launcherEnv(settings));
      const banner = await second.waitForBanner();

      // Act
      // Another password: with ANN's own, a pending username is the typo fix (201).
      const again = await httpJson(baseUrl, 'POST', '/users', {
        ...ANN,
        password: 'another password 123',
      });

      // Assert
      expect(banner).not.toContain('Created tables');
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ code: 'USERNAME_TAKEN' });
    });

    it('leaves no orphan when Node is killed: Java notices its closed stdin and exits', async () => {
      // Arrange
      if (!second?.running)
        throw new Error('The restarted launcher of the previous test is not running.');
      const javaBefore = javaPidsFor(settings.dataDir);

      // Act
      const exit = await second.signalAndWait('SIGKILL', 5_000);
      const javaLeft = await waitForJavaGone(settings.dataDir, 10_000);
      const portFreed = await waitForPortFree(settings.dynamoDbPort, 5_000);

      // Assert
      expect(javaBefore).toHaveLength(1);
      expect(exit.signal).toBe('SIGKILL');
      expect(javaLeft).toEqual([]);
      expect(portFreed).toBe(true);
    });

    it('stops everything with exit code 1, saying why, when DynamoDB Local is killed', async () => {
      // Arrange: a third start on the same data.
      third = Launcher.start(launcherEnv(settings));
      await third.waitForBanner();
      const [java] = javaPidsFor(settings.dataDir);

      // Act
      process.kill(java!, 'SIGKILL');
      const exit = await third.waitForExit(15_000);

      // Assert
      expect(exit.code).toBe(1);
      expect(third.stderr).toContain('card-store: DynamoDB Local was killed (SIGKILL)');
      expect(third.stderr).toContain('`npm start` starts it again on the same data');
      expect(third.stderr).not.toMatch(STACK_FRAME);
      expect(await waitForPortFree(settings.port, 5_000)).toBe(true);
    });
  });

  describe('refuses to start, with exit code 1 and a message for a person', () => {
    let settings: LauncherSettings;
    let launcher: Launcher | undefined;
    let blocker: Server | undefined;
    let emptyPathDir: string | undefined;

    beforeEach(async () => {
      settings = await freshSettings('refused');
    });

    afterEach(async () => {
      await launcher?.kill();
      launcher = undefined;
      await release(blocker);
      blocker = undefined;
      killJavaFor(settings.dataDir);
      removeDir(settings.dataDir);
      removeDir(emptyPathDir);
      emptyPathDir = undefined;
    });

    it('when no java is on PATH, explaining that Java 17 is needed and how to install it', async () => {
      // Arrange
      emptyPathDir = tempDir('no-java');

      // Act
      launcher = Launcher.start(launcherEnv(settings, { PATH: emptyPathDir }));
      const exit = await launcher.waitForExit(15_000);

      // Assert
      expect(exit).toEqual({ code: 1, signal: null });
      expect(launcher.stderr).toContain('card-store: No `java` on PATH.');
      expect(launcher.stderr).toContain('Java 17 or newer');
      expect(launcher.stderr).toMatch(/apt-get install openjdk-17/);
      expect(launcher.stderr).toContain('https://adoptium.net');
      expect(launcher.stderr).not.toMatch(STACK_FRAME);
      expect(launcher.stdout).not.toContain(BANNER);
    });

    it('when DYNAMODB_LOCAL_PORT is in use, naming the variable', async () => {
      // Arrange
      blocker = await occupyPort(settings.dynamoDbPort);

      // Act
      launcher = Launcher.start(launcherEnv(settings));
      const exit = await launcher.waitForExit(15_000);

      // Assert
      expect(exit).toEqual({ code: 1, signal: null });
      expect(launcher.stderr).toContain(
        `card-store: DynamoDB Local cannot use port ${settings.dynamoDbPort}`,
      );
      expect(launcher.stderr).toContain('set DYNAMODB_LOCAL_PORT to a free port');
      expect(launcher.stderr).not.toMatch(STACK_FRAME);
      expect(javaPidsFor(settings.dataDir)).toEqual([]);
    });

    it('when PORT is in use, naming the variable and stopping the Java it started', async () => {
      // Arrange
      blocker = await occupyPort(settings.port);

      // Act
      launcher = Launcher.start(launcherEnv(settings));
      const exit = await launcher.waitForExit(50_000);

      // Assert
      expect(exit).toEqual({ code: 1, signal: null });
      expect(launcher.stderr).toContain(`card-store: The API cannot use port ${settings.port}`);
      expect(launcher.stderr).toContain('set PORT to a free port');
      expect(launcher.stderr).not.toMatch(STACK_FRAME);
      expect(launcher.stdout).not.toContain(BANNER);
      expect(existsSync(join(settings.dataDir, 'dynamodb'))).toBe(true); // DynamoDB Local did start
      expect(javaPidsFor(settings.dataDir)).toEqual([]);
      expect(await isPortFree(settings.dynamoDbPort)).toBe(true);
    });

    it('when PORT is not a number, naming the variable and the value before starting Java', async () => {
      // Arrange
      const startedAt = Date.now();

      // Act
      launcher = Launcher.start(launcherEnv(settings, { PORT: 'abc' }));
      const exit = await launcher.waitForExit(15_000);
      const ms = Date.now() - startedAt;

      // Assert
      expect(exit).toEqual({ code: 1, signal: null });
      expect(launcher.stderr).toContain('card-store: Invalid configuration:');
      expect(launcher.stderr).toContain('PORT must be an integer (got "abc")');
      expect(launcher.stderr).not.toMatch(STACK_FRAME);
      expect(ms).toBeLessThan(5_000); // a start with Java takes longer than this
      expect(existsSync(join(settings.dataDir, 'dynamodb'))).toBe(false); // made just before Java is spawned
      expect(javaPidsFor(settings.dataDir)).toEqual([]);
    });
  });
});
