/**
 * The throttler storage against DynamoDB Local: atomic counting under concurrency, the
 * lock, a window's end, and two instances (two storages) over one table.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { TestTables, testConfig } from '../../../test/support/test-app';
import { DynamoDbThrottlerStorage } from './dynamodb-throttler-storage';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('DynamoDbThrottlerStorage (DynamoDB Local)', () => {
  let tables: TestTables;
  let storage: DynamoDbThrottlerStorage;

  beforeAll(async () => {
    tables = await new TestTables(testConfig()).create();
    storage = new DynamoDbThrottlerStorage(
      tables.documentClient,
      tables.config.dynamodb.tables.rateLimits,
    );
  });

  afterAll(async () => {
    await tables.drop();
  });

  it('lets exactly `limit` of 40 concurrent requests through: no overshoot', async () => {
    const key = randomUUID();

    const records = await Promise.all(
      Array.from({ length: 40 }, () => storage.increment(key, 60_000, 10, 0)),
    );

    expect(records.filter((record) => !record.isBlocked)).toHaveLength(10);
    expect(records.map((record) => record.totalHits).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
  });

  it('locks the key for the block duration once over the limit, counting stays refused', async () => {
    const key = randomUUID();
    for (let i = 0; i < 3; i += 1) await storage.increment(key, 10_000, 3, 120_000);

    const over = await storage.increment(key, 10_000, 3, 120_000);
    const again = await storage.increment(key, 10_000, 3, 120_000);

    expect(over).toMatchObject({ isBlocked: true, timeToBlockExpire: 120 });
    expect(again.isBlocked).toBe(true);
    expect(again.timeToBlockExpire).toBeGreaterThanOrEqual(119);
  });

  it('starts counting again once the window and the lock have ended', async () => {
    const key = randomUUID();
    await storage.increment(key, 800, 1, 800);
    const over = await storage.increment(key, 800, 1, 800);

    await sleep(900);
    const after = await storage.increment(key, 800, 1, 800);

    expect(over.isBlocked).toBe(true);
    expect(after).toMatchObject({ isBlocked: false, totalHits: 1 });
  });

  it('restarts an ended window once, even when many requests find it ended together', async () => {
    const key = randomUUID();
    await storage.increment(key, 300, 100, 0);
    await sleep(400);

    const records = await Promise.all(
      Array.from({ length: 20 }, () => storage.increment(key, 60_000, 100, 0)),
    );

    expect(records.map((record) => record.totalHits).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  });

  it('shares one counter between two instances over the same table', async () => {
    const other = new DynamoDbThrottlerStorage(
      tables.documentClient,
      tables.config.dynamodb.tables.rateLimits,
    );
    const key = randomUUID();

    const first = await storage.increment(key, 60_000, 2, 0);
    const second = await other.increment(key, 60_000, 2, 0);
    const third = await storage.increment(key, 60_000, 2, 0);

    expect([first.totalHits, second.totalHits, third.totalHits]).toEqual([1, 2, 3]);
    expect(third.isBlocked).toBe(true);
  });

  it('gives the counter a TTL after its window, so DynamoDB removes it', async () => {
    const key = randomUUID();
    const before = Math.floor(Date.now() / 1000);

    await storage.increment(key, 60_000, 5, 0);

    const { Item: item } = await tables.documentClient.send(
      new GetCommand({
        TableName: tables.config.dynamodb.tables.rateLimits,
        Key: { limitKey: key },
      }),
    );
    expect(item?.expiresAt).toBeGreaterThanOrEqual(before + 60);
    expect(item?.expiresAt).toBeLessThanOrEqual(before + 60 + 61);
  });
});
