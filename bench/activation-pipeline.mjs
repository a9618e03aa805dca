// Measures the activation pipeline end to end on the local system: spawns the built
// entry point (as `npm start` does) on free ports with a fresh data folder, then
// 1. latency: LATENCY_USERS registrations one after another; for each, the time from the
//    201 to its mail appearing in the local SES inbox (its /store) -> p50, p90, p99, max;
// 2. burst: BURST_USERS registrations sent at once (BURST_CONCURRENCY in flight) -> the
//    rate of 201s, the rate of mails arriving, the time from the last 201 to the last
//    mail (how far the pipeline lags behind the API), and the rate at which the mails
//    still due at the last 201 went out (the pipeline alone, with the API quiet).
// Run: npm run bench:pipeline  (builds first). Compare figures as ratios within one run.
import { startLocalSystem } from './local-system.mjs';

const LATENCY_USERS = Number(process.env.LATENCY_USERS ?? 100);
const BURST_USERS = Number(process.env.BURST_USERS ?? 500);
const BURST_CONCURRENCY = Number(process.env.BURST_CONCURRENCY ?? 25);
const MAIL_POLL_MS = 5;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function register(api, username) {
  const response = await fetch(`${api}/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      username,
      email: `${username}@bench.example`,
      name: `Bench ${username}`,
      password: 'correct horse battery staple',
    }),
  });
  if (response.status !== 201) throw new Error(`POST /users ${response.status}`);
  return performance.now();
}

/** Recipients of the mails in the inbox (since an epoch second, to keep polls light). */
async function mailedAddresses(ses, sinceSeconds = 0) {
  const { emails } = await (await fetch(`${ses}/store?since=${sinceSeconds}`)).json();
  return emails.flatMap((mail) => mail.destination.to);
}

const epochSeconds = () => Math.floor(Date.now() / 1000);

async function latency(system) {
  const samples = [];
  for (let i = 0; i < LATENCY_USERS; i++) {
    const username = `latency${i}`;
    const since = epochSeconds();
    const created = await register(system.api, username);
    const deadline = created + 30_000;
    for (;;) {
      if ((await mailedAddresses(system.ses, since)).includes(`${username}@bench.example`)) break;
      if (performance.now() > deadline) throw new Error(`no mail for ${username} in 30 s`);
      await sleep(MAIL_POLL_MS);
    }
    samples.push(performance.now() - created);
  }
  samples.sort((a, b) => a - b);
  return samples;
}

async function burst(system) {
  const already = (await mailedAddresses(system.ses)).length;
  const started = performance.now();
  let next = 0;
  let lastCreated = 0;
  const worker = async () => {
    while (next < BURST_USERS) {
      const i = next++;
      lastCreated = Math.max(lastCreated, await register(system.api, `burst${i}`));
    }
  };
  const mailTimes = [];
  let watching = true;
  const watcher = (async () => {
    let seen = already;
    while (watching) {
      const count = (await mailedAddresses(system.ses)).length;
      for (; seen < count; seen++) mailTimes.push(performance.now());
      if (seen - already >= BURST_USERS) return;
      await sleep(MAIL_POLL_MS);
    }
  })();
  await Promise.all(Array.from({ length: BURST_CONCURRENCY }, worker));
  const deadline = performance.now() + 120_000;
  while (mailTimes.length < BURST_USERS && performance.now() < deadline) await sleep(50);
  watching = false;
  await watcher;
  if (mailTimes.length < BURST_USERS) {
    throw new Error(`only ${mailTimes.length} of ${BURST_USERS} mails within 120 s`);
  }
  const lastMail = mailTimes[mailTimes.length - 1];
  const outstandingAtLast201 = mailTimes.filter((t) => t > lastCreated).length;
  return {
    outstandingAtLast201,
    drainPerSecond: outstandingAtLast201 / ((lastMail - lastCreated) / 1000),
    registrationsPerSecond: BURST_USERS / ((lastCreated - started) / 1000),
    mailsPerSecond: BURST_USERS / ((lastMail - started) / 1000),
    lagAfterLast201Ms: lastMail - lastCreated,
    totalSeconds: (lastMail - started) / 1000,
  };
}

const system = await startLocalSystem('pipeline-bench');
try {
  const samples = await latency(system);
  const f = (ms) => `${ms.toFixed(0)} ms`;
  console.log(`201 -> mail in the inbox, ${samples.length} registrations one at a time:`);
  console.log(
    `  p50 ${f(percentile(samples, 50))}  p90 ${f(percentile(samples, 90))}  ` +
      `p99 ${f(percentile(samples, 99))}  max ${f(samples[samples.length - 1])}`,
  );
  const result = await burst(system);
  console.log(`burst of ${BURST_USERS} registrations (${BURST_CONCURRENCY} in flight):`);
  console.log(
    `  ${result.registrationsPerSecond.toFixed(1)} registrations/s, ` +
      `${result.mailsPerSecond.toFixed(1)} mails/s (all ${BURST_USERS} mails in ${result.totalSeconds.toFixed(1)} s), ` +
      `last mail ${f(result.lagAfterLast201Ms)} after the last 201`,
  );
  console.log(
    `  after the last 201: ${result.outstandingAtLast201} mails still due, ` +
      `sent at ${result.drainPerSecond.toFixed(1)} mails/s (the pipeline alone)`,
  );
} finally {
  await system.stop();
}
