/**
 * The migration of the Spring app's items (docs/taking-over-the-spring-app.md): one paced,
 * resumable Scan of the User table (or of the Spring app's own table, whose items it
 * copies in where their usernames are free) that finds every legacy item (no
 * `createdAt`), reports what the new rules refuse in it, and — with `apply` — writes the
 * e-mail claims the Spring app never had. It never deletes and never changes a user item
 * already there: a legacy item's plaintext goes at its first sign-in (PasswordCheck).
 *
 * - **Claims:** an active-style claim (no `expiresAt`) on `emailKey(email)` for each legacy
 *   account with an address the rules take, written only where the address is free
 *   (`attribute_not_exists`). A claim of the same account already there: nothing to do,
 *   so a second run writes nothing. Another account's: a conflict, reported; the address
 *   stays with the first account the scan met, or the one that signed up with it here.
 * - **Resumable:** after each page, the Scan's position and the counts go to `state`
 *   (written atomically); a run started again goes on from there. A run that stopped
 *   inside a page repeats that page's work: its claims are then "already claimed", and at
 *   most that page's report lines appear twice.
 * - **Paced:** reads and writes are spent from a budget of `capacityPerSecond` capacity
 *   units (what DynamoDB reports it consumed), so a live table keeps its headroom.
 */
import { readFileSync, renameSync, writeFileSync, appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import {
  emailKey,
  emailProblems,
  isActivationStatus,
  normaliseUsername,
  usernameProblems,
} from '../../activation';
import type { TableNames } from '../../config/app-config';
import { createDocumentClient } from '../../platform/aws/clients';
import { isLegacyItem, LEGACY_PASSWORD } from './dynamodb-user-store';
import { USER_EMAIL_KEY, USER_KEY } from './user-tables';

/** What the report says of a legacy item, one JSON line each. */
export interface MigrationFinding {
  readonly username: string;
  readonly kind:
    | 'username-outside-rules'
    | 'no-email'
    | 'email-outside-rules'
    | 'email-shared'
    | 'unknown-status'
    | 'no-password';
  readonly detail: string;
  /** What the migration did (or, in a dry run, would do) about it. */
  readonly action: string;
}

export interface MigrationCounts {
  scanned: number;
  /** Items card-store wrote itself: left alone. */
  current: number;
  legacy: number;
  /** Legacy items whose plaintext is still there (it goes at their first sign-in). */
  plaintext: number;
  /** Claims written (apply) or that would be written (dry run). */
  claimed: number;
  /** Claims this account already had: nothing to do. */
  alreadyClaimed: number;
  /** With a source table: legacy items copied into the User table (or, dry, to copy). */
  copied: number;
  /** With a source table: legacy items whose username the User table already holds. */
  alreadyThere: number;
  findings: number;
}

export interface MigrationState {
  readonly startKey?: Record<string, unknown>;
  readonly counts: MigrationCounts;
  readonly finished: boolean;
  readonly apply: boolean;
}

export interface MigrationProgress {
  readonly counts: MigrationCounts;
  /** The table's item count as DynamoDB last described it (about six-hourly): for a bar. */
  readonly approximateTotal?: number;
  readonly itemsPerSecond: number;
}

export interface MigrationOptions {
  readonly apply: boolean;
  /**
   * The Spring app's own table, when its items are to be copied into the User table
   * first (the stack's table is a new one): each legacy item is put there as it is, only
   * where its username is free, then migrated. Unset: the User table is scanned itself.
   */
  readonly sourceTable?: string;
  readonly capacityPerSecond: number;
  /** Items per Scan page. */
  readonly pageSize: number;
  /** Where the position and counts are kept between runs. */
  readonly statePath: string;
  /** Where the findings go, JSON lines, appended. */
  readonly reportPath: string;
  readonly approximateTotal?: number;
  readonly onProgress?: (progress: MigrationProgress) => void;
  /** Stops after this many pages (tests of resuming; an operator's trial run). */
  readonly maxPages?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const emptyCounts = (): MigrationCounts => ({
  scanned: 0,
  current: 0,
  legacy: 0,
  plaintext: 0,
  claimed: 0,
  alreadyClaimed: 0,
  copied: 0,
  alreadyThere: 0,
  findings: 0,
});

/** The saved state, if a run left one; a state of the other mode is refused. */
export function readMigrationState(path: string): MigrationState | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  return JSON.parse(text) as MigrationState;
}

function writeState(path: string, state: MigrationState): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(temporary, path);
}

/** Spends capacity units at most at `perSecond`, averaged from the start of the run. */
class CapacityBudget {
  private spent = 0;
  private readonly started = Date.now();

  constructor(
    private readonly perSecond: number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  async spend(units: number | undefined): Promise<void> {
    this.spent += units ?? 1;
    const earliest = this.started + (this.spent / this.perSecond) * 1000;
    const wait = earliest - Date.now();
    if (wait > 0) await this.sleep(wait);
  }
}

export async function migrateLegacyUsers(
  dynamodb: DynamoDBClient,
  tables: Pick<TableNames, 'users' | 'userEmails'>,
  options: MigrationOptions,
): Promise<MigrationState> {
  // Items are copied as read: their numbers (the Spring app's balance) digit for digit.
  const client = createDocumentClient(dynamodb, { exactNumbers: true });
  const saved = readMigrationState(options.statePath);
  if (saved && saved.apply !== options.apply) {
    throw new Error(
      `${options.statePath} is the state of a ${saved.apply ? '--apply' : 'dry'} run; finish it that way, or remove the file to start over.`,
    );
  }
  if (saved?.finished) return saved;
  const counts = saved?.counts ?? emptyCounts();
  let startKey = saved?.startKey;
  const sleep = options.sleep ?? ((ms) => new Promise<void>((done) => setTimeout(done, ms)));
  const budget = new CapacityBudget(options.capacityPerSecond, sleep);
  const started = Date.now();
  const scannedBefore = counts.scanned;
  /** Addresses this run has claimed (or, dry, would claim): for a dry run's shared ones. */
  const claimedHere = new Map<string, string>();
  mkdirSync(dirname(options.reportPath), { recursive: true });

  for (let page = 0; options.maxPages === undefined || page < options.maxPages; page += 1) {
    const result = await client.send(
      new ScanCommand({
        TableName: options.sourceTable ?? tables.users,
        Limit: options.pageSize,
        ExclusiveStartKey: startKey,
        ConsistentRead: true,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    await budget.spend(result.ConsumedCapacity?.CapacityUnits);
    const findings: MigrationFinding[] = [];
    for (const item of result.Items ?? []) {
      counts.scanned += 1;
      if (!isLegacyItem(item)) {
        counts.current += 1;
        continue;
      }
      counts.legacy += 1;
      if (options.sourceTable !== undefined && !(await copyItem(item))) {
        // The User table has this username already: a copy an earlier run made (maybe
        // signed in to since), or an account of its own. Left as it is, not migrated again.
        counts.alreadyThere += 1;
        continue;
      }
      findings.push(...(await migrateItem(item)));
    }
    if (findings.length > 0) {
      appendFileSync(
        options.reportPath,
        findings.map((finding) => `${JSON.stringify(finding)}\n`).join(''),
      );
      counts.findings += findings.length;
    }
    startKey = result.LastEvaluatedKey;
    const finished = startKey === undefined;
    writeState(options.statePath, {
      ...(startKey ? { startKey } : {}),
      counts,
      finished,
      apply: options.apply,
    });
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    options.onProgress?.({
      counts,
      approximateTotal: options.approximateTotal,
      itemsPerSecond: (counts.scanned - scannedBefore) / seconds,
    });
    if (finished) break;
  }
  return readMigrationState(options.statePath)!;

  async function migrateItem(item: Record<string, unknown>): Promise<MigrationFinding[]> {
    const username = String(item[USER_KEY]);
    const findings: MigrationFinding[] = [];
    const finding = (kind: MigrationFinding['kind'], detail: string, action: string) =>
      findings.push({ username, kind, detail, action });
    if (typeof item[LEGACY_PASSWORD] === 'string') counts.plaintext += 1;
    else if (typeof item.passwordHash !== 'string') {
      finding('no-password', 'neither a plaintext password nor a hash', 'kept; it cannot sign in');
    }
    if (item.activationStatus !== undefined && !isActivationStatus(item.activationStatus)) {
      finding(
        'unknown-status',
        `activationStatus ${JSON.stringify(item.activationStatus)}`,
        'kept; it cannot sign in (the item is unreadable)',
      );
    }
    if (usernameProblems(username).length > 0 || normaliseUsername(username) !== username) {
      finding(
        'username-outside-rules',
        usernameProblems(normaliseUsername(username)).join('; ') ||
          `the rules make it ${JSON.stringify(normaliseUsername(username))}`,
        'kept as stored; it signs in typed exactly so, and gets no mail links',
      );
    }
    const email = item.email;
    if (typeof email !== 'string' || email.trim() === '') {
      finding('no-email', 'no e-mail address', 'no claim; nothing is mailed to it');
      return findings;
    }
    const problems = emailProblems(email);
    if (problems.length > 0) {
      finding(
        'email-outside-rules',
        `${JSON.stringify(email)}: ${problems.join('; ')}`,
        'no claim; nothing is mailed to it',
      );
      return findings;
    }
    const key = emailKey(email);
    const holder = claimedHere.get(key) ?? (await claimHolder(key));
    if (holder === username) {
      counts.alreadyClaimed += 1;
      return findings;
    }
    if (holder !== undefined) {
      finding(
        'email-shared',
        `${JSON.stringify(email)} is also the address of ${JSON.stringify(holder)}`,
        `no claim: the address stays with ${JSON.stringify(holder)}; this one is mailed by username only`,
      );
      return findings;
    }
    if (options.apply && !(await writeClaim(key, username))) {
      // Taken between the read and the write (a sign-up): report it as shared.
      const now = await claimHolder(key);
      if (now !== username) {
        finding(
          'email-shared',
          `${JSON.stringify(email)} was claimed meanwhile by ${JSON.stringify(now)}`,
          `no claim: the address stays with ${JSON.stringify(now)}`,
        );
        return findings;
      }
    }
    claimedHere.set(key, username);
    counts.claimed += 1;
    return findings;
  }

  /** @returns false when the User table holds the username already */
  async function copyItem(item: Record<string, unknown>): Promise<boolean> {
    const key = { [USER_KEY]: item[USER_KEY] };
    const free = options.apply
      ? await putIfAbsent(tables.users, USER_KEY, item)
      : (await readItem(tables.users, key)) === undefined;
    if (free) counts.copied += 1;
    return free;
  }

  async function claimHolder(key: string): Promise<string | undefined> {
    const claim = await readItem(tables.userEmails, { [USER_EMAIL_KEY]: key });
    return typeof claim?.username === 'string' ? claim.username : undefined;
  }

  /** @returns false when the address was claimed meanwhile */
  function writeClaim(key: string, username: string): Promise<boolean> {
    return putIfAbsent(tables.userEmails, USER_EMAIL_KEY, { [USER_EMAIL_KEY]: key, username });
  }

  /** A consistent read, paid from the budget. */
  async function readItem(
    table: string,
    key: Record<string, unknown>,
  ): Promise<Record<string, unknown> | undefined> {
    const { Item, ConsumedCapacity } = await client.send(
      new GetCommand({
        TableName: table,
        Key: key,
        ConsistentRead: true,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    await budget.spend(ConsumedCapacity?.CapacityUnits);
    return Item;
  }

  /** Puts `item` only where its key is free, paid from the budget; false when it is not. */
  async function putIfAbsent(
    table: string,
    keyName: string,
    item: Record<string, unknown>,
  ): Promise<boolean> {
    try {
      const { ConsumedCapacity } = await client.send(
        new PutCommand({
          TableName: table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#key)',
          ExpressionAttributeNames: { '#key': keyName },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      await budget.spend(ConsumedCapacity?.CapacityUnits);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
