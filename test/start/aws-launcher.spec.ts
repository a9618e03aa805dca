/**
 * `npm start` in aws mode (src/main.ts with CARD_STORE_MODE=aws): the compiled entry point
 * as a child process. It must start nothing local and talk to DynamoDB through the SDK's
 * own configuration only, so the tests point the SDK at this run's DynamoDB Local the way
 * any AWS tool can be pointed elsewhere (AWS_ENDPOINT_URL_DYNAMODB, dummy keys): the app's
 * aws-mode rules stay untouched, and no cloud account is needed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { testConfig, testEndpoint, TestTables } from '../support/test-app';
import {
  AWS_BANNER,
  BANNER,
  distinctFreePorts,
  httpJson,
  isPortFree,
  javaPidsFor,
  Launcher,
  launcherEnv,
  type LauncherSettings,
  removeDir,
  STACK_FRAME,
  tempDir,
} from './launcher';

jest.setTimeout(30_000);

const REGION = 'eu-west-1';

async function freshSettings(): Promise<LauncherSettings> {
  const [port, dynamoDbPort, sfnPort, sesPort] = (await distinctFreePorts(4)) as [
    number,
    number,
    number,
    number,
  ];
  return { port, dynamoDbPort, sfnPort, sesPort, dataDir: tempDir('aws-mode') };
}

/**
 * aws mode over `tables`: none of the caller's AWS settings (profile, keys, endpoints)
 * leak in; the SDK finds DynamoDB Local through its standard endpoint variable.
 */
function awsModeEnv(
  settings: LauncherSettings,
  tables: TestTables,
  overrides: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  const env = launcherEnv(settings);
  for (const name of Object.keys(env)) if (name.startsWith('AWS_')) delete env[name];
  const { users, userEmails, sessions, rateLimits } = tables.config.dynamodb.tables;
  return {
    ...env,
    CARD_STORE_MODE: 'aws',
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: testEndpoint(),
    USER_TABLE_NAME: users,
    USER_EMAIL_TABLE_NAME: userEmails,
    SESSION_TABLE_NAME: sessions,
    RATE_LIMIT_TABLE_NAME: rateLimits,
    // aws mode takes the limits as they are (launcherEnv raises them for local bursts).
    RATE_LIMIT_SCALE: '1',
    ...overrides,
  };
}

describe('npm start in aws mode (CARD_STORE_MODE=aws)', () => {
  let settings: LauncherSettings;
  let tables: TestTables;
  let launcher: Launcher | undefined;

  beforeEach(async () => {
    settings = await freshSettings();
    tables = new TestTables(testConfig());
  });

  afterEach(async () => {
    await launcher?.kill();
    launcher = undefined;
    await tables.drop();
    removeDir(settings.dataDir);
  });

  /** Nothing of local mode ran: no Java, no data folder, no local Step Functions or SES. */
  async function expectNoStandIns(): Promise<void> {
    expect(javaPidsFor(settings.dataDir)).toEqual([]);
    expect(existsSync(join(settings.dataDir, 'dynamodb'))).toBe(false);
    expect(await isPortFree(settings.sfnPort)).toBe(true);
    expect(await isPortFree(settings.sesPort)).toBe(true);
  }

  describe('refuses to start, with exit code 1 and a message for a person', () => {
    it('when DYNAMODB_ENDPOINT is set, saying it is for local mode', async () => {
      // Arrange
      const env = awsModeEnv(settings, tables, { DYNAMODB_ENDPOINT: testEndpoint() });

      // Act
      launcher = Launcher.start(env);
      const exit = await launcher.waitForExit(15_000);

      // Assert
      expect(exit).toEqual({ code: 1, signal: null });
      expect(launcher.stderr).toContain('card-store: Invalid configuration:');
      expect(launcher.stderr).toContain(
        `DYNAMODB_ENDPOINT is for local mode only; unset it with CARD_STORE_MODE=aws (got "${testEndpoint()}")`,
      );
      expect(launcher.stderr).not.toMatch(STACK_FRAME);
      expect(launcher.stdout).not.toContain(BANNER);
      await expectNoStandIns();
    });

    it('when AWS_REGION is not set, instead of using us-east-1', async () => {
      // Arrange
      const env = awsModeEnv(settings, tables);
      delete env.AWS_REGION;

      // Act
      launcher = Launcher.start(env);
      const exit = await launcher.waitForExit(15_000);

      // Assert
      expect(exit).toEqual({ code: 1, signal: null });
      expect(launcher.stderr).toContain(
        'AWS_REGION must be set with CARD_STORE_MODE=aws: aws mode has no default region',
      );
      expect(launcher.stderr).not.toMatch(STACK_FRAME);
    });

    it('when the tables do not exist, naming them, the region and what to do', async () => {
      // Arrange: `tables` not created.
      const { users, userEmails, sessions, rateLimits } = tables.config.dynamodb.tables;

      // Act
      launcher = Launcher.start(awsModeEnv(settings, tables));
      const exit = await launcher.waitForExit(15_000);

      // Assert
      expect(exit).toEqual({ code: 1, signal: null });
      expect(launcher.stderr).toContain(
        `card-store: tables ${users}, ${userEmails}, ${sessions}, ${rateLimits} not found in ${REGION}: ` +
          'deploy the stack (npm run deploy) or set USER_TABLE_NAME, USER_EMAIL_TABLE_NAME, SESSION_TABLE_NAME, RATE_LIMIT_TABLE_NAME',
      );
      expect(launcher.stderr).not.toMatch(STACK_FRAME);
      expect(launcher.stdout).not.toContain(AWS_BANNER);
      expect(await isPortFree(settings.port)).toBe(true);
    });
  });

  it('serves the API over the existing tables, starting no stand-in, and stops on SIGTERM', async () => {
    // Arrange
    await tables.create();
    const { users, userEmails, sessions } = tables.config.dynamodb.tables;
    const baseUrl = `http://127.0.0.1:${settings.port}`;
    launcher = Launcher.start(awsModeEnv(settings, tables));
    const banner = await launcher.waitForBanner(15_000, AWS_BANNER);

    // Act
    const registration = await httpJson(baseUrl, 'POST', '/users', {
      username: 'ann',
      email: 'ann@example.org',
      name: 'Ann Example',
      password: 'correct horse battery',
    });
    const stored = await tables.users.findByUsername('ann');
    const exit = await launcher.signalAndWait('SIGTERM', 10_000);

    // Assert
    expect(banner).toContain(`API              http://127.0.0.1:${settings.port}`);
    expect(banner).toContain(`Region           ${REGION}`);
    expect(banner).toMatch(/^ {2}OpenAPI {10}http:\/\/\S+\/openapi\.json$/m);
    expect(banner).not.toContain('API docs');
    expect(banner).toContain(`Tables           ${users}, ${userEmails}, ${sessions}`);
    expect(registration.status).toBe(201);
    expect(stored).toMatchObject({ username: 'ann', activationStatus: 'NONE' });
    await expectNoStandIns();
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(launcher.stderr).not.toMatch(STACK_FRAME);
  });
});
