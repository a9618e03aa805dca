/**
 * The fault suite's password-reset scenario: accounts registered by a burst are activated
 * through their mailed links, then each asks for one reset mail while a fault strikes, and
 * the reset mails are counted per account in the inbox that outlives the fault.
 */
import { PASSWORD_RESET_MAIL_SUBJECT } from '../../src/activation/password-reset-mail';
import { ACTIVATION_MAIL_SUBJECT } from '../../src/activation/activation-mail';
import { addressOf, mailsIn } from './fault-harness';

const PASSWORD = 'a long password 1';

export interface ResetTally {
  readonly scenario: string;
  /** Accounts whose reset request was answered 202. */
  readonly accepted: number;
  /** Accepted accounts without a reset mail when the deadline passed. */
  readonly lost: number;
  /** Reset mails beyond the first, over every account. */
  readonly duplicates: number;
  /** Accounts refused (503 in a freeze) that got a mail anyway: the write landed, its answer did not. */
  readonly mailedThoughRefused: number;
  readonly refused: Readonly<Record<string, number>>;
}

/** Activates every account with the token of its activation mail in `inbox`. */
export async function activateAll(
  api: string,
  inbox: string,
  usernames: readonly string[],
): Promise<void> {
  const tokens = new Map<string, string>();
  for (const mail of await mailsIn(inbox)) {
    const token = /token=([\w-]{43})/.exec(mail.body.text ?? '')?.[1];
    if (mail.subject === ACTIVATION_MAIL_SUBJECT && token)
      tokens.set(mail.destination.to[0]!, token);
  }
  for (const username of usernames) {
    const token = tokens.get(addressOf(username));
    if (!token) throw new Error(`no activation mail for ${username}`);
    const response = await fetch(`${api}/activate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, token, password: PASSWORD }),
    });
    if (response.status !== 200) throw new Error(`activating ${username}: ${response.status}`);
  }
}

/**
 * One `POST /password-reset` per account, `concurrency` in flight; `during(answered)` runs
 * before each request (a fault starts there).
 */
export async function resetBurst(
  api: string,
  usernames: readonly string[],
  concurrency: number,
  during: (answered: number) => void | Promise<void>,
): Promise<{ accepted: Set<string>; refused: Record<string, number> }> {
  const accepted = new Set<string>();
  const refused: Record<string, number> = {};
  let next = 0;
  const worker = async () => {
    while (next < usernames.length) {
      const username = usernames[next++]!;
      await during(accepted.size);
      const status = await fetch(`${api}/password-reset`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: addressOf(username) }),
        signal: AbortSignal.timeout(30_000),
      }).then(
        (response) => response.status,
        () => 'network error',
      );
      if (status === 202) accepted.add(username);
      else refused[status] = (refused[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { accepted, refused };
}

/** Waits until every accepted account has its reset mail (or the deadline), then counts. */
export async function tallyResets(
  scenario: string,
  inbox: string,
  usernames: readonly string[],
  { accepted, refused }: { accepted: Set<string>; refused: Record<string, number> },
  deadlineMs: number,
): Promise<ResetTally> {
  const deadline = performance.now() + deadlineMs;
  let perAddress = new Map<string, number>();
  let drainedAt: number | null = null;
  for (;;) {
    perAddress = new Map();
    for (const mail of await mailsIn(inbox)) {
      if (mail.subject !== PASSWORD_RESET_MAIL_SUBJECT) continue;
      for (const to of mail.destination.to) perAddress.set(to, (perAddress.get(to) ?? 0) + 1);
    }
    if ([...accepted].every((username) => perAddress.has(addressOf(username)))) {
      drainedAt ??= performance.now();
      // Duplicates come from retries after a lease: give them a moment to show up.
      if (performance.now() - drainedAt > 2_000) break;
    }
    if (performance.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const count = (username: string) => perAddress.get(addressOf(username)) ?? 0;
  return {
    scenario,
    accepted: accepted.size,
    lost: [...accepted].filter((username) => count(username) === 0).length,
    duplicates: usernames.reduce((sum, username) => sum + Math.max(0, count(username) - 1), 0),
    mailedThoughRefused: usernames.filter((u) => !accepted.has(u) && count(u) > 0).length,
    refused,
  };
}
