// The rate of `npm run migrate:legacy` on DynamoDB Local (docs/taking-over-the-spring-app.md):
// ITEMS legacy items (the Spring app's shape, each with an address of its own; every 10th
// with a username the rules refuse, every 20th sharing an address) are written into the
// User table of the built system (`npm start` on free ports, a fresh data folder), then the
// migration runs as the command does — first dry, then --apply, then --apply again (all
// claims already there) — without a capacity limit to speak of. Prints items/s of each run
// and what it counted. Loopback only, bounded.
// Run: npm run bench:migration
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { migrateLegacyUsers } from '../dist/src/users/persistence/legacy-migration.js';
import { startLocalSystem } from './local-system.mjs';

const ITEMS = Number(process.env.ITEMS ?? 5_000);
const TABLES = { users: 'User', userEmails: 'UserEmail' };

const system = await startLocalSystem('legacy-migration');
const dir = mkdtempSync(join(tmpdir(), 'card-store-bench-migration-'));
const dynamodb = new DynamoDBClient({
  region: 'us-east-1',
  endpoint: system.dynamodb,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
try {
  const item = (n) => ({
    username: { S: n % 10 === 0 ? `Legacy User ${n}` : `legacy-${n}` },
    password: { S: `plaintext ${n}` },
    name: { S: `Legacy ${n}` },
    email: { S: `legacy-${n % 20 === 0 ? n - 1 : n}@example.org` },
    balance: { N: '100.0' },
    activationStatus: { S: n % 3 === 0 ? 'NONE' : 'DONE' },
    activationToken: { S: String(100000 * Math.random()) },
  });
  const seeding = performance.now();
  for (let start = 0; start < ITEMS; start += 25) {
    const batch = Array.from({ length: Math.min(25, ITEMS - start) }, (_, i) => ({
      PutRequest: { Item: item(start + i + 1) },
    }));
    let requests = { [TABLES.users]: batch };
    while (Object.keys(requests).length > 0) {
      const { UnprocessedItems } = await dynamodb.send(
        new BatchWriteItemCommand({ RequestItems: requests }),
      );
      requests = UnprocessedItems ?? {};
    }
  }
  console.log(
    `legacy migration, ${ITEMS} legacy items (seeded in ${((performance.now() - seeding) / 1000).toFixed(1)} s)`,
  );
  for (const [name, apply] of [
    ['dry run', false],
    ['--apply', true],
    ['--apply again', true],
  ]) {
    const started = performance.now();
    const state = await migrateLegacyUsers(dynamodb, TABLES, {
      apply,
      capacityPerSecond: 1_000_000,
      pageSize: 100,
      statePath: join(dir, `${name.replace(/\W+/g, '-')}.json`),
      reportPath: join(dir, 'report.jsonl'),
    });
    const seconds = (performance.now() - started) / 1000;
    const { counts } = state;
    console.log(
      `  ${name.padEnd(14)} ${(counts.scanned / seconds).toFixed(0)} items/s (${seconds.toFixed(1)} s): ${counts.legacy} legacy, ${counts.claimed} claims ${apply ? 'written' : 'to write'}, ${counts.alreadyClaimed} already there, ${counts.findings} findings`,
    );
  }
} finally {
  dynamodb.destroy();
  rmSync(dir, { recursive: true, force: true });
  await system.stop();
}
