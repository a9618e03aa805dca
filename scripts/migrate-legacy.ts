/**
 * `npm run migrate:legacy -- [--apply] [--source-table <name>] [--capacity <units/s>]
 *   [--page-size <n>] [--state <file>] [--report <file>] [--max-pages <n>]`
 *
 * Migrates the Spring app's items in the User table (src/users/persistence/legacy-migration.ts,
 * docs/taking-over-the-spring-app.md): a dry run by default, which reads and reports and
 * writes nothing to DynamoDB; `--apply` writes the e-mail claims. Resumes from `--state`
 * where a run stopped; paces itself to `--capacity` capacity units a second; shows a
 * progress bar with counts and rate on a terminal (a line per page otherwise); appends
 * what it found to `--report` (JSON lines). Never deletes anything.
 *
 * Local mode (the default) works on the running `npm start`'s DynamoDB Local; `MODE=aws`
 * on the region's DynamoDB with the default credential chain, and the table names of the
 * environment (USER_TABLE_NAME, USER_EMAIL_TABLE_NAME), as the app reads them.
 */
import { parseArgs } from 'node:util';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { SingleBar } from 'cli-progress';
import { loadConfig } from '../src/config/app-config';
import { createDynamoDbClient } from '../src/platform/aws/clients';
import {
  type MigrationProgress,
  migrateLegacyUsers,
} from '../src/users/persistence/legacy-migration';

const USAGE =
  'npm run migrate:legacy -- [--apply] [--source-table SpringUser] [--capacity 25] [--page-size 100] [--state legacy-migration/state.json] [--report legacy-migration/report.jsonl] [--max-pages N]';

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      apply: { type: 'boolean', default: false },
      capacity: { type: 'string' },
      'page-size': { type: 'string' },
      state: { type: 'string', default: 'legacy-migration/state.json' },
      report: { type: 'string', default: 'legacy-migration/report.jsonl' },
      'max-pages': { type: 'string' },
      'source-table': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent' });
  const endpoint =
    config.mode === 'local'
      ? (config.dynamodb.endpoint ?? `http://127.0.0.1:${config.dynamodb.localPort}`)
      : undefined;
  const dynamodb = createDynamoDbClient({ region: config.dynamodb.region, endpoint });
  const { tables } = config.dynamodb;
  try {
    const scanned = values['source-table'] ?? tables.users;
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: scanned }));
    const apply = values.apply;
    process.stderr.write(
      `${apply ? 'Applying' : 'Dry run (nothing is written; --apply writes)'}: ${scanned}${scanned === tables.users ? '' : ` → ${tables.users}`} → claims in ${tables.userEmails}, ${endpoint ?? config.dynamodb.region}\n`,
    );
    const bar = process.stderr.isTTY
      ? new SingleBar({
          format:
            '{bar} {value}/{total} items · {legacy} legacy · {claimed} claims · {findings} findings · {rate} items/s',
          stream: process.stderr,
          hideCursor: true,
        })
      : undefined;
    bar?.start(Math.max(Table?.ItemCount ?? 0, 1), 0, {
      legacy: 0,
      claimed: 0,
      findings: 0,
      rate: 0,
    });
    const show = ({ counts, itemsPerSecond }: MigrationProgress) => {
      const rate = Math.round(itemsPerSecond);
      if (bar) {
        if (counts.scanned > bar.getTotal()) bar.setTotal(counts.scanned);
        bar.update(counts.scanned, { ...counts, rate });
      } else {
        process.stderr.write(
          `  ${counts.scanned} items, ${counts.legacy} legacy, ${counts.claimed} claims, ${counts.findings} findings, ${rate} items/s\n`,
        );
      }
    };
    const state = await migrateLegacyUsers(dynamodb, tables, {
      apply,
      sourceTable: values['source-table'],
      capacityPerSecond: positive('capacity', values.capacity, 25),
      pageSize: positive('page-size', values['page-size'], 100),
      statePath: values.state,
      reportPath: values.report,
      approximateTotal: Table?.ItemCount,
      maxPages:
        values['max-pages'] === undefined
          ? undefined
          : positive('max-pages', values['max-pages'], 1),
      onProgress: show,
    });
    bar?.stop();
    const { counts } = state;
    process.stdout.write(
      `${state.finished ? 'Finished' : 'Stopped (run again to go on)'}: ${counts.scanned} items scanned, ${counts.current} card-store's, ${counts.legacy} legacy (${counts.plaintext} with a plaintext password still${values['source-table'] ? `; ${counts.copied} copied, ${counts.alreadyThere} there already` : ''}), ${counts.claimed} e-mail claims ${apply ? 'written' : 'to write'}, ${counts.alreadyClaimed} already there, ${counts.findings} findings in ${values.report}.\n`,
    );
  } finally {
    dynamodb.destroy();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `migrate:legacy: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exitCode = 1;
});
