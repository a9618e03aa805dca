/**
 * `npm run migrate:legacy`'s work (src/users/persistence/legacy-migration.ts) over DynamoDB
 * Local, on the Spring app's fixtures beside accounts card-store made: the dry run writes
 * nothing, `--apply` writes the e-mail claims and a second run changes nothing, a run
 * stopped half-way goes on where it stopped, every conflict is reported, no user item
 * changes (balance included), and the capacity budget paces it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DeleteTableCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import request from 'supertest';
import { springAppItems } from '../../scripts/seed-legacy';
import {
  type MigrationFinding,
  type MigrationOptions,
  migrateLegacyUsers,
} from '../../src/users/persistence/legacy-migration';
import { createTestApp, type TestApp } from '../support/test-app';
import { activatedUser } from './api-helpers';

describe('the legacy migration', () => {
  let api: TestApp;
  let dir: string;
  let run = 0;

  const scanAll = async (table: string) =>
    (await api.tables.client.send(new ScanCommand({ TableName: table, ConsistentRead: true })))
      .Items ?? [];
  const users = () => scanAll(api.config.dynamodb.tables.users);
  const claims = async () =>
    (await scanAll(api.config.dynamodb.tables.userEmails))
      .map((item) => `${item.email?.S} → ${item.username?.S}`)
      .sort();

  /** A run with a state and report of its own (or the ones given, to resume). */
  const migrate = (options: Partial<MigrationOptions> = {}) => {
    run += 1;
    return migrateLegacyUsers(api.tables.client, api.config.dynamodb.tables, {
      apply: false,
      capacityPerSecond: 10_000,
      pageSize: 4,
      statePath: join(dir, `state-${run}.json`),
      reportPath: join(dir, `report-${run}.jsonl`),
      ...options,
    });
  };
  const findingsIn = (path: string): MigrationFinding[] =>
    readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as MigrationFinding);

  beforeAll(async () => {
    api = await createTestApp();
    dir = mkdtempSync(join(tmpdir(), 'card-store-migration-'));
    for (const { item } of springAppItems()) {
      await api.tables.client.send(
        new PutItemCommand({ TableName: api.config.dynamodb.tables.users, Item: item }),
      );
    }
    // Two accounts of card-store's own, one with its claim.
    await activatedUser(api, { username: 'new-one', email: 'new-one@example.org' });
    await activatedUser(api, { username: 'new-two', email: 'new-two@example.org' });
  });
  afterAll(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('dry: reads everything, reports every conflict, writes nothing', async () => {
    const [usersBefore, claimsBefore] = [await users(), await claims()];
    const reportPath = join(dir, 'dry.jsonl');

    const state = await migrate({ reportPath });

    expect(state.finished).toBe(true);
    expect(state.counts).toEqual({
      scanned: 10,
      current: 2,
      legacy: 8,
      plaintext: 8,
      // grace, ada or mallory (one address), alan, margaret, Edsger Dijkstra.
      claimed: 5,
      alreadyClaimed: 0,
      copied: 0,
      alreadyThere: 0,
      findings: 4,
    });
    expect(await users()).toEqual(usersBefore);
    expect(await claims()).toEqual(claimsBefore);
    const findings = findingsIn(reportPath);
    const said = findings.map(({ username, kind }) => `${username}: ${kind}`);
    expect(said).toHaveLength(4);
    expect(said).toEqual(
      expect.arrayContaining([
        'linus: no-email',
        'barbara: email-outside-rules',
        'Edsger Dijkstra: username-outside-rules',
        expect.stringMatching(/^(ada|mallory): email-shared$/),
      ]),
    );
    expect(findings.every(({ action }) => action.length > 0)).toBe(true);
  });

  it('--apply: writes the claims, changes no user item, and a second run writes nothing', async () => {
    const usersBefore = await users();

    const first = await migrate({ apply: true });
    const claimsAfterFirst = await claims();
    const second = await migrate({ apply: true });

    expect(first.counts).toMatchObject({ claimed: 5, alreadyClaimed: 0, findings: 4 });
    expect(claimsAfterFirst).toEqual(
      expect.arrayContaining([
        'grace@example.org → grace',
        'alan@example.org → alan',
        'margaret@example.org → margaret',
        'ewd@example.org → Edsger Dijkstra',
        'new-one@example.org → new-one',
        expect.stringMatching(/^ada@example\.org → (ada|mallory)$/),
      ]),
    );
    expect(claimsAfterFirst).toHaveLength(7);
    // The claims are an active account's: no expiry, never taken over by a sign-up.
    const raw = await scanAll(api.config.dynamodb.tables.userEmails);
    expect(raw.filter((item) => item.expiresAt !== undefined)).toEqual([]);
    expect(second.counts).toMatchObject({ claimed: 0, alreadyClaimed: 5, findings: 4 });
    expect(await claims()).toEqual(claimsAfterFirst);
    // Not one attribute of a user item changed: balance, plaintext, tokens, all there.
    expect(await users()).toEqual(usersBefore);
  });

  it('goes on where a stopped run stopped, to the same end as one run', async () => {
    const statePath = join(dir, 'resumed.json');
    const reportPath = join(dir, 'resumed.jsonl');

    const stopped = await migrate({ apply: true, statePath, reportPath, pageSize: 3, maxPages: 1 });
    const resumed = await migrate({ apply: true, statePath, reportPath, pageSize: 3 });

    expect(stopped.finished).toBe(false);
    expect(stopped.counts.scanned).toBe(3);
    expect(resumed.finished).toBe(true);
    expect(resumed.counts.scanned).toBe(10);
    expect(resumed.counts.legacy).toBe(8);
    // A finished state is kept: running again does nothing more.
    await expect(migrate({ apply: true, statePath, reportPath })).resolves.toEqual(resumed);
    // A dry run cannot pick up an applying run's state.
    await expect(migrate({ statePath, reportPath })).rejects.toThrow(/--apply run/);
  });

  it('keeps to its capacity budget', async () => {
    const waits: number[] = [];

    await migrate({
      capacityPerSecond: 2,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });

    // Three scan pages and a read per address: well over 2 units in the first second.
    expect(waits.length).toBeGreaterThan(3);
    expect(Math.max(...waits)).toBeGreaterThan(1_000);
  });

  it('lets a sign-up with a migrated address store nothing: the address is taken', async () => {
    const response = await request(api.http).post('/users').send({
      username: 'grace-again',
      email: 'grace@example.org',
      name: 'Not Grace',
      password: 'a password of my own',
    });

    // The same answer as a free address (sign-up reveals no address), but nothing stored.
    expect(response.status).toBe(201);
    expect((await users()).map((item) => item.username?.S)).not.toContain('grace-again');
  });
});

describe("the legacy migration from the Spring app's own table", () => {
  let api: TestApp;
  let dir: string;
  const source = `SpringUser-${Date.now().toString(36)}`;

  beforeAll(async () => {
    api = await createTestApp();
    dir = mkdtempSync(join(tmpdir(), 'card-store-migration-copy-'));
    await api.tables.client.send(
      new CreateTableCommand({
        TableName: source,
        AttributeDefinitions: [{ AttributeName: 'username', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'username', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    for (const { item } of springAppItems()) {
      await api.tables.client.send(new PutItemCommand({ TableName: source, Item: item }));
    }
    // A balance no JavaScript number holds: copied digit for digit.
    await api.tables.client.send(
      new PutItemCommand({
        TableName: source,
        Item: {
          username: { S: 'rich' },
          password: { S: 'money money' },
          balance: { N: '12345678901234567890.125' },
        },
      }),
    );
    // A username card-store already has: the copy leaves it alone.
    await activatedUser(api, { username: 'grace', email: 'grace.new@example.org' });
  });
  afterAll(async () => {
    await api.tables.client.send(new DeleteTableCommand({ TableName: source }));
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies each item where its username is free, as it is, and migrates it; never twice', async () => {
    const options = (name: string, apply: boolean) => ({
      apply,
      sourceTable: source,
      capacityPerSecond: 10_000,
      pageSize: 5,
      statePath: join(dir, `${name}.json`),
      reportPath: join(dir, `${name}.jsonl`),
    });
    const tables = api.config.dynamodb.tables;

    const dry = await migrateLegacyUsers(api.tables.client, tables, options('dry', false));
    const applied = await migrateLegacyUsers(api.tables.client, tables, options('apply', true));
    const again = await migrateLegacyUsers(api.tables.client, tables, options('again', true));

    expect(dry.counts).toMatchObject({ legacy: 9, copied: 8, alreadyThere: 1 });
    expect(applied.counts).toMatchObject({ legacy: 9, copied: 8, alreadyThere: 1 });
    expect(again.counts).toMatchObject({ legacy: 9, copied: 0, alreadyThere: 9, claimed: 0 });
    const copied = (
      await api.tables.client.send(
        new ScanCommand({ TableName: tables.users, ConsistentRead: true }),
      )
    ).Items!;
    const inSource = (
      await api.tables.client.send(
        new GetItemCommand({ TableName: source, Key: { username: { S: 'margaret' } } }),
      )
    ).Item;
    expect(copied.find((item) => item.username?.S === 'margaret')).toEqual(inSource);
    expect(copied.find((item) => item.username?.S === 'rich')?.balance).toEqual({
      N: '12345678901234567890.125',
    });
    // card-store's own grace is untouched: not the Spring app's grace.
    expect(copied.find((item) => item.username?.S === 'grace')?.password).toBeUndefined();
  });
});
