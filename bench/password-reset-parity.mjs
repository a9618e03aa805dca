// Whether the timing of POST /password-reset tells an account's address from an unknown one
// (docs/api.md, "Forgotten and changed passwords": the request reveals no account). One
// run over the built system (`npm start` on free ports, a fresh data folder,
// RATE_LIMIT_SCALE=1000 so that the mail budget's limits, mail-address, mail-cooldown and
// mail-daily, leave room for the
// bench's requests from one loopback address and to one address): one account is
// registered and activated through the API and the local inbox first; then ROUNDS rounds,
// one request at a time, each round
//   (a) POST /password-reset, the active account's address  → 202, a reset mail
//   (b) POST /password-reset, an address no account has (a new one each round)
//                                                            → 202, nothing stored, no mail
// in alternating order (a, b, then b, a, ...), so that neither always runs right after the
// other's pipeline work. Prints median and p90 of each, their ratio, and how many answers
// were not 202 (each must be 202 with the same body). Loopback only, bounded.
// Run: npm run bench:password-reset
import { startLocalSystem } from './local-system.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 50);
const WARM_UP = 10;
const PASSWORD = 'correct horse battery staple';
const RESET_SUBJECT = 'Reset the password of your Digital Card Store account';

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const run = Date.now().toString(36);

const system = await startLocalSystem('password-reset-parity');
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
const mailsIn = async () => (await (await fetch(`${system.ses}/store`)).json()).emails;

try {
  // The one active account, through the product itself: register, the mail's link, activate.
  const person = {
    username: `r${run}`,
    email: `r${run}@example.org`,
    name: 'Bench Person',
    password: PASSWORD,
  };
  const registration = await post('/users', person);
  if (registration.status !== 201) throw new Error(`setup registration: ${registration.status}`);
  let link;
  for (let tries = 0; !link; tries += 1) {
    if (tries > 100) throw new Error('the activation mail did not arrive');
    const mail = (await mailsIn()).find((m) => m.destination.to[0] === person.email);
    const match = /http\S+\/activate\?\S+/.exec(mail?.body.text ?? '');
    if (match) link = new URL(match[0]);
    else await sleep(100);
  }
  const activation = await post('/activate', {
    username: link.searchParams.get('username'),
    token: link.searchParams.get('token'),
    password: PASSWORD,
  });
  if (activation.status !== 200) throw new Error(`setup activation: ${activation.status}`);

  let unknown = 0;
  const branches = [
    { label: "(a) an active account's address", email: () => person.email, ms: [] },
    {
      label: '(b) an address of no account',
      email: () => `n${run}-${++unknown}@example.org`,
      ms: [],
    },
  ];
  const bodies = new Set();
  const refused = new Map(); // status → count, of the measured requests
  for (let round = 0; round < WARM_UP + ROUNDS; round += 1) {
    const order = round % 2 === 0 ? branches : [...branches].reverse();
    for (const branch of order) {
      const { status, ms, body } = await post('/password-reset', { email: branch.email() });
      if (round < WARM_UP) continue;
      branch.ms.push(ms);
      if (status === 202) bodies.add(body);
      else refused.set(status, (refused.get(status) ?? 0) + 1);
    }
  }

  // What reached the inbox once it stops growing (10 s at most): reset mails to the
  // account, none to the unknown addresses.
  let resets = [];
  for (let quiet = 0, waited = 0; quiet < 4 && waited < 40; waited += 1) {
    await sleep(250);
    const now = (await mailsIn()).filter((mail) => mail.subject === RESET_SUBJECT);
    quiet = now.length === resets.length ? quiet + 1 : 0;
    resets = now;
  }
  const toAccount = resets.filter((mail) => mail.destination.to[0] === person.email).length;
  const toNobody = resets.length - toAccount;

  const nonAccepted = [...refused.values()].reduce((sum, n) => sum + n, 0);
  console.log(
    `${ROUNDS} requests per branch, interleaved (alternating order), one at a time, after ${WARM_UP} each to warm up:`,
  );
  const medians = [];
  const p90s = [];
  for (const branch of branches) {
    const sorted = branch.ms.sort((x, y) => x - y);
    medians.push(percentile(sorted, 50));
    p90s.push(percentile(sorted, 90));
    console.log(
      `  ${branch.label.padEnd(34)} median ${medians.at(-1).toFixed(1)} ms  p90 ${p90s.at(-1).toFixed(1)} ms`,
    );
  }
  console.log(
    `  ratio (a)/(b): median ×${(medians[0] / medians[1]).toFixed(2)}, p90 ×${(p90s[0] / p90s[1]).toFixed(2)}`,
  );
  console.log(
    `  non-202 answers: ${nonAccepted}${nonAccepted ? ` (${[...refused].map(([s, n]) => `${n}× ${s}`).join(', ')})` : ''}; distinct 202 bodies: ${bodies.size}`,
  );
  console.log(
    `  reset mails in the inbox: ${toAccount} to the account (of ${WARM_UP + ROUNDS} requests), ${toNobody} to unknown addresses`,
  );
  if (bodies.size > 1) throw new Error(`202 bodies differ: ${[...bodies].join(' | ')}`);
  if (toNobody > 0) throw new Error(`${toNobody} reset mails went to addresses of no account`);
} finally {
  await system.stop();
}
