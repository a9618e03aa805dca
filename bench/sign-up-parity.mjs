// Whether sign-up's timing tells an active account's address from a free one (issue 12,
// guarantee 4). One run over the built system (`npm start` on free ports, a fresh data
// folder): ACCOUNTS accounts are registered and activated through the API and the local
// inbox first; then ROUNDS rounds, one request at a time, each round
//   (a) POST /users, new username, new address        → 201, a new pending account
//   (b) POST /users, new username, an active account's address (a different account each
//       round)                                         → 201, nothing stored, a notice
//   (c) POST /users, new username, the address of one active account already told within
//       the hour (the notice's quiet period)           → 201, nothing stored, no mail
// and prints median and p90 of each, and each branch's median over (a)'s. Every answer
// must be 201 with the same body keys. Loopback only, bounded. Run: npm run bench:sign-up
import { startLocalSystem } from './local-system.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 50);
const WARM_UP = 10;
const ACCOUNTS = ROUNDS + WARM_UP + 1;
const PASSWORD = 'correct horse battery staple';

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const run = Date.now().toString(36);
let serial = 0;
const newPerson = (email) => {
  serial += 1;
  const username = `p${run}-${serial}`;
  return {
    username,
    email: email ?? `${username}@example.org`,
    name: 'Bench Person',
    password: PASSWORD,
  };
};

const system = await startLocalSystem('sign-up-parity');
const post = async (path, body) => {
  const started = performance.now();
  const response = await fetch(`${system.api}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, ms: performance.now() - started, body: text };
};

try {
  // Active accounts, through the product itself: register, the mail's link, activate.
  const active = Array.from({ length: ACCOUNTS }, () => newPerson());
  for (const person of active) {
    const { status } = await post('/users', person);
    if (status !== 201) throw new Error(`setup registration: ${status}`);
  }
  const links = new Map();
  for (let tries = 0; links.size < ACCOUNTS; tries += 1) {
    if (tries > 600) throw new Error(`only ${links.size} of ${ACCOUNTS} mails arrived`);
    const { emails } = await (await fetch(`${system.ses}/store`)).json();
    for (const mail of emails) {
      const link = /http\S+\/activate\?\S+/.exec(mail.body.text ?? '');
      if (link) links.set(mail.destination.to[0], new URL(link[0]));
    }
    if (links.size < ACCOUNTS) await sleep(100);
  }
  for (const person of active) {
    const link = links.get(person.email);
    const { status } = await post('/activate', {
      username: link.searchParams.get('username'),
      token: link.searchParams.get('token'),
      password: PASSWORD,
    });
    if (status !== 200) throw new Error(`setup activation: ${status}`);
  }
  const quiet = active.pop();
  await post('/users', newPerson(quiet.email)); // its one notice of the hour

  const branches = [
    { label: '(a) new address', next: () => newPerson(), ms: [] },
    { label: "(b) an active account's address", next: () => newPerson(active.pop().email), ms: [] },
    { label: '(c) the same, in its quiet hour', next: () => newPerson(quiet.email), ms: [] },
  ];
  const keys = new Set();
  for (let round = 0; round < WARM_UP + ROUNDS; round += 1) {
    for (const branch of branches) {
      const { status, ms, body } = await post('/users', branch.next());
      if (status !== 201) throw new Error(`${branch.label}: ${status} ${body}`);
      keys.add(Object.keys(JSON.parse(body)).sort().join(','));
      if (round >= WARM_UP) branch.ms.push(ms);
    }
  }
  if (keys.size !== 1) throw new Error(`answers differ in shape: ${[...keys].join(' | ')}`);

  console.log(
    `${ROUNDS} requests per branch, interleaved, one at a time (after ${WARM_UP} each to warm up); all 201, body keys ${[...keys][0]}:`,
  );
  let baseline;
  for (const branch of branches) {
    const sorted = branch.ms.sort((x, y) => x - y);
    const median = percentile(sorted, 50);
    baseline ??= median;
    console.log(
      `  ${branch.label.padEnd(34)} median ${median.toFixed(1)} ms  p90 ${percentile(sorted, 90).toFixed(1)} ms  (median ×${(median / baseline).toFixed(2)})`,
    );
  }
} finally {
  await system.stop();
}
