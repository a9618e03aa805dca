// A burst of registrations over the local system with DynamoDB Local frozen mid-burst
// (SIGSTOP of its JVM for FREEZE_MS, then SIGCONT): prints registered / mailed / lost /
// duplicates and how long after the last 201 the last mail arrived. Loopback only;
// bounded in count (BENCH_USERS, default 300) and time (3 minutes for the mails).
// Run: npm run bench:freeze
import { execFileSync } from 'node:child_process';
import { startLocalSystem } from './local-system.mjs';

const USERS = Number(process.env.BENCH_USERS ?? 300);
const IN_FLIGHT = 20;
const FREEZE_AFTER = Math.floor(USERS / 3);
const FREEZE_MS = Number(process.env.FREEZE_MS ?? 5_000);
const MAIL_DEADLINE_MS = 180_000;

const system = await startLocalSystem('freeze');
try {
  // The newest DynamoDB Local JVM: the one this system just started.
  const jvm = execFileSync('pgrep', ['-n', '-f', 'DynamoDBLocal']).toString().trim();
  const tag = `f${Date.now() % 1_000_000}`;
  const started = performance.now();
  let next = 0;
  let registered = 0;
  const refused = {};
  let thawed;
  const worker = async () => {
    while (next < USERS) {
      const i = next++;
      if (i === FREEZE_AFTER) {
        process.kill(Number(jvm), 'SIGSTOP');
        thawed = new Promise((resolve) =>
          setTimeout(() => resolve(process.kill(Number(jvm), 'SIGCONT')), FREEZE_MS),
        );
      }
      const response = await fetch(`${system.api}/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          username: `${tag}u${i}`,
          email: `${tag}u${i}@example.org`,
          name: 'Freeze',
          password: 'a long password 1',
        }),
      }).catch(() => ({ status: 'network error' }));
      if (response.status === 201) registered++;
      else refused[response.status] = (refused[response.status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  await thawed;
  const lastCreated = performance.now();

  let perAddress = {};
  const deadline = lastCreated + MAIL_DEADLINE_MS;
  while (performance.now() < deadline) {
    const { emails } = await (await fetch(`${system.ses}/store`)).json();
    perAddress = {};
    for (const mail of emails) {
      const to = mail.destination.to[0];
      if (to.startsWith(tag)) perAddress[to] = (perAddress[to] ?? 0) + 1;
    }
    if (Object.keys(perAddress).length >= registered) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const mailed = Object.keys(perAddress).length;
  console.log(
    JSON.stringify({
      users: USERS,
      freezeMs: FREEZE_MS,
      registered,
      refused,
      registrationSeconds: Number(((lastCreated - started) / 1000).toFixed(1)),
      mailed,
      lost: registered - mailed,
      duplicates: Object.values(perAddress).filter((count) => count > 1).length,
      lastMailSecondsAfterLast201: Number(((performance.now() - lastCreated) / 1000).toFixed(1)),
    }),
  );
} finally {
  await system.stop();
}
