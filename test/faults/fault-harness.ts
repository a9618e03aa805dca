/**
 * The fault suite's parts: the whole system as `npm start` runs it (test/start/launcher.ts),
 * a burst of registrations against it, the faults (a frozen or killed JVM, a killed Node,
 * a throttling SES) and the count of what came out of it, read from an inbox and the
 * User table.
 *
 * Mails are counted in an inbox that survives the fault: a LocalSes in the test's own
 * process (the system gets SES_ENDPOINT), so a killed Node loses no mail from the count.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { LOCAL_CREDENTIALS } from '../../src/platform/aws/clients';
import type { StoredMail } from '../../src/workers/local-ses';
import {
  distinctFreePorts,
  javaPidsFor,
  killJavaFor,
  Launcher,
  launcherEnv,
  type LauncherSettings,
  removeDir,
  tempDir,
  waitForJavaGone,
} from '../start/launcher';

export interface BurstResult {
  /** Usernames answered 201. */
  readonly registered: readonly string[];
  /** Other answers by status (or "network error"): requests in flight at a kill, for one. */
  readonly refused: Readonly<Record<string, number>>;
  /** When the last 201 came (performance.now()). */
  readonly lastCreatedAt: number;
}

export interface Tally {
  readonly scenario: string;
  readonly registered: number;
  /** Registered users with at least one mail. */
  readonly mailed: number;
  /** Registered users still in the table without a mail when the deadline passed. */
  readonly lost: number;
  /** Registered users gone from the table after a restart (DynamoDB Local's own window). */
  readonly goneFromTable: number;
  /** Users with more than one mail, and how many mails too many. */
  readonly duplicates: number;
  /**
   * From the last 201 to the first mail of the last user still in the table; null if one
   * of them never got a mail.
   */
  readonly drainSeconds: number | null;
  readonly refused: Readonly<Record<string, number>>;
}

/** One system on its own ports and data folder; restartable on the same data. */
export class FaultSystem {
  launcher!: Launcher;

  private constructor(
    readonly settings: LauncherSettings,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  static async start(label: string, env: NodeJS.ProcessEnv = {}): Promise<FaultSystem> {
    const [port, dynamoDbPort, sfnPort, sesPort] = (await distinctFreePorts(4)) as [
      number,
      number,
      number,
      number,
    ];
    const settings = { port, dynamoDbPort, sfnPort, sesPort, dataDir: tempDir(`faults-${label}`) };
    const system = new FaultSystem(settings, env);
    await system.restart();
    return system;
  }

  get api(): string {
    return `http://127.0.0.1:${this.settings.port}`;
  }

  /** The embedded SES's inbox (when the system was not given SES_ENDPOINT). */
  get embeddedInbox(): string {
    return `http://127.0.0.1:${this.settings.sesPort}`;
  }

  /** `npm start` (again) on the same data folder; resolves at the ready banner. */
  async restart(): Promise<void> {
    // After a killed Node, its JVM notices the closed pipe and exits; its port must be free.
    const left = await waitForJavaGone(this.settings.dataDir, 15_000);
    if (left.length > 0) throw new Error(`DynamoDB Local ${left.join(', ')} is still running`);
    this.launcher = Launcher.startScript(launcherEnv(this.settings, this.env));
    await this.launcher.waitForBanner(90_000);
  }

  /** The DynamoDB Local JVM serving this system. */
  jvm(): number {
    const [pid] = javaPidsFor(this.settings.dataDir);
    if (pid === undefined) throw new Error('No DynamoDB Local runs for this system');
    return pid;
  }

  async stop(): Promise<void> {
    await this.launcher?.kill();
    killJavaFor(this.settings.dataDir);
    removeDir(this.settings.dataDir);
  }

  /** Whether each user is in the User table (the system must be running). */
  async inTable(usernames: readonly string[]): Promise<Map<string, boolean>> {
    const client = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: `http://127.0.0.1:${this.settings.dynamoDbPort}`,
        region: 'us-east-1',
        credentials: LOCAL_CREDENTIALS,
      }),
    );
    try {
      const found = new Map<string, boolean>();
      for (const username of usernames) {
        const { Item } = await client.send(
          new GetCommand({ TableName: 'User', Key: { username }, ConsistentRead: true }),
        );
        found.set(username, Item !== undefined);
      }
      return found;
    } finally {
      client.destroy();
    }
  }
}

export const addressOf = (username: string) => `${username}@example.org`;

/**
 * `users` registrations, `concurrency` in flight. `during(registered)` runs before each
 * request with the number of 201s so far (a fault starts there); a request that fails at
 * the network counts as refused.
 */
export async function burst(
  api: string,
  { users, concurrency, tag }: { users: number; concurrency: number; tag: string },
  during: (registered: number) => void | Promise<void> = () => undefined,
): Promise<BurstResult> {
  const registered: string[] = [];
  const refused: Record<string, number> = {};
  let lastCreatedAt = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < users) {
      const i = next++;
      await during(registered.length);
      const username = `${tag}u${i}`;
      const status = await fetch(`${api}/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          username,
          email: addressOf(username),
          name: 'Fault Suite',
          password: 'a long password 1',
        }),
        signal: AbortSignal.timeout(30_000),
      }).then(
        (response) => response.status,
        () => 'network error',
      );
      if (status === 201) {
        registered.push(username);
        lastCreatedAt = performance.now();
      } else refused[status] = (refused[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { registered, refused, lastCreatedAt };
}

export async function mailsIn(inbox: string): Promise<StoredMail[]> {
  const response = await fetch(`${inbox}/store`);
  if (!response.ok) throw new Error(`${inbox}/store answered ${response.status}`);
  return ((await response.json()) as { emails: StoredMail[] }).emails;
}

/**
 * Waits until every registered user has a mail in `inbox` (or `deadlineMs` after the last
 * 201), then a little longer for late duplicates, and counts.
 */
export async function tally(
  scenario: string,
  system: FaultSystem,
  inbox: string,
  result: BurstResult,
  deadlineMs: number,
): Promise<Tally> {
  const wanted = new Set(result.registered.map(addressOf));
  const gone = new Set<string>();
  const deadline = result.lastCreatedAt + deadlineMs;
  let perAddress = new Map<string, number>();
  let drainedAt: number | null = null;
  let lookedAt = performance.now();
  for (;;) {
    perAddress = new Map();
    for (const mail of await mailsIn(inbox)) {
      for (const to of mail.destination.to) perAddress.set(to, (perAddress.get(to) ?? 0) + 1);
    }
    if (performance.now() - lookedAt > 2_000) {
      // A user who is no longer in the table will never be mailed: stop waiting for them.
      lookedAt = performance.now();
      const waiting = result.registered.filter(
        (username) => !gone.has(username) && !perAddress.has(addressOf(username)),
      );
      for (const [username, present] of await system.inTable(waiting)) {
        if (!present) gone.add(username);
      }
    }
    const due = result.registered.filter((username) => !gone.has(username));
    if (due.every((username) => perAddress.has(addressOf(username)))) {
      drainedAt ??= performance.now();
      // Duplicates come from retries after a lease: give them a moment to show up.
      if (performance.now() - drainedAt > 2_000) break;
    }
    if (performance.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const unmailed = result.registered.filter((username) => !perAddress.has(addressOf(username)));
  for (const [username, present] of await system.inTable(unmailed)) {
    if (!present) gone.add(username);
  }
  let duplicates = 0;
  for (const address of wanted) duplicates += Math.max(0, (perAddress.get(address) ?? 0) - 1);
  return {
    scenario,
    registered: result.registered.length,
    mailed: result.registered.length - unmailed.length,
    lost: unmailed.length - gone.size,
    goneFromTable: gone.size,
    duplicates,
    drainSeconds:
      drainedAt === null ? null : Math.round((drainedAt - result.lastCreatedAt) / 100) / 10,
    refused: result.refused,
  };
}

/** One line a person reads: `fault suite, <scenario>: registered … mailed … lost …`. */
export function describeTally(t: Tally): string {
  const refused = Object.entries(t.refused)
    .map(([status, count]) => `${count}×${status}`)
    .join(', ');
  return (
    `fault suite, ${t.scenario}: registered ${t.registered}, mailed ${t.mailed}, lost ${t.lost}` +
    (t.goneFromTable ? ` (+${t.goneFromTable} gone from DynamoDB Local)` : '') +
    `, duplicates ${t.duplicates}, drained ${t.drainSeconds === null ? 'never' : `${t.drainSeconds} s`} after the last 201` +
    (refused ? `; not 201: ${refused}` : '')
  );
}
