// Does the local pipeline keep pace? One run over the built system (`npm start` on free
// ports, a fresh data folder), printing:
// 1. latency at a steady rate: PACE_RATE registrations/s (open loop: sent on schedule,
//    whatever the answers) for PACE_SECONDS; for each, the time from its 201 to its mail
//    in the inbox -> p50, p90, p99, max;
// 2. the pipeline's own drain rate with the API quiet: DRAIN_USERS users written straight
//    into the User table (BatchWriteItem, as registrations leave them), the time from the
//    first write to the last mail -> mails/s;
// 3. the floor of that rate: the DynamoDB and SES calls the pipeline makes per mail
//    (GetItem for the status, GetItem + the claim's UpdateItem, SendEmail, the MAIL_SENT
//    UpdateItem) made directly against the same DynamoDB Local and SES, 10 mails in
//    flight (one stream batch), on a scratch table -> mails/s, and drain / floor;
// 4. Node's RSS when ready and after HOSTILE_REQUESTS requests (a mix: registrations,
//    wrong passwords, malformed and invalid bodies, unknown routes, health checks).
// Loopback only, bounded in count and time. Run: npm run bench:pace
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalSystem } from './local-system.mjs';

const PACE_RATE = Number(process.env.PACE_RATE ?? 20);
const PACE_SECONDS = Number(process.env.PACE_SECONDS ?? 30);
const DRAIN_USERS = Number(process.env.DRAIN_USERS ?? 1_000);
const FLOOR_MAILS = Number(process.env.FLOOR_MAILS ?? 1_000);
const FLOOR_IN_FLIGHT = 10;
const HOSTILE_REQUESTS = Number(process.env.HOSTILE_REQUESTS ?? 10_000);
const MAIL_DEADLINE_MS = 120_000;
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const rssMiB = (pid) =>
  Number(
    readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((line) => line.startsWith('VmRSS:'))
      .split(/\s+/)[1],
  ) / 1024;

/** CPU seconds (user + system) a process has used so far, from /proc (clock ticks of 10 ms). */
const cpuSeconds = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

/** Runs `phase`, printing the CPU each process used during it. */
async function withCpu(label, pids, phase) {
  const before = Object.fromEntries(
    Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]),
  );
  const started = performance.now();
  const result = await phase();
  const seconds = (performance.now() - started) / 1000;
  const used = Object.entries(pids)
    .map(([name, pid]) => `${name} ${((cpuSeconds(pid) - before[name]) / seconds).toFixed(2)}`)
    .join(', ');
  console.log(
    `  CPU during ${label} (cores busy on average over ${seconds.toFixed(1)} s): ${used}`,
  );
  return result;
}

/** Watches the inbox; `arrived(address)` resolves with the time its first mail was seen. */
function inboxWatcher(ses) {
  const seen = new Map();
  const waiting = new Map();
  let running = true;
  let since = 0;
  const loop = (async () => {
    while (running) {
      const { emails } = await (await fetch(`${ses}/store?since=${since}`)).json();
      const now = performance.now();
      for (const mail of emails) {
        since = Math.max(since, mail.at - 1);
        for (const to of mail.destination.to) {
          if (seen.has(to)) continue;
          seen.set(to, now);
          waiting.get(to)?.(now);
        }
      }
      await sleep(5);
    }
  })();
  return {
    arrived: (address) =>
      seen.has(address)
        ? Promise.resolve(seen.get(address))
        : new Promise((resolve) => waiting.set(address, resolve)),
    count: () => seen.size,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

const registration = (username) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    username,
    email: `${username}@bench.example`,
    name: `Bench ${username}`,
    password: 'correct horse battery staple',
  }),
});

async function steadyLatency(system, inbox) {
  const total = PACE_RATE * PACE_SECONDS;
  const started = performance.now();
  const samples = [];
  const requests = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / PACE_RATE;
    await sleep(Math.max(0, due - performance.now()));
    const username = `pace${i}`;
    requests.push(
      (async () => {
        const response = await fetch(`${system.api}/users`, registration(username));
        const created = performance.now();
        if (response.status !== 201) throw new Error(`POST /users ${response.status}`);
        const mailed = await Promise.race([
          inbox.arrived(`${username}@bench.example`),
          sleep(MAIL_DEADLINE_MS).then(() => Promise.reject(new Error(`no mail for ${username}`))),
        ]);
        samples.push(mailed - created);
      })(),
    );
  }
  await Promise.all(requests);
  samples.sort((a, b) => a - b);
  return { total, sentOverSeconds: (performance.now() - started) / 1000, samples };
}

function userItem(username, activationUrlBase) {
  return {
    username,
    email: `${username}@bench.example`,
    name: `Bench ${username}`,
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$YmVuY2hzYWx0$YmVuY2hoYXNo',
    activationStatus: 'NONE',
    activationUrlBase,
    createdAt: new Date().toISOString(),
  };
}

async function writeUsers(doc, table, usernames, activationUrlBase) {
  for (let i = 0; i < usernames.length; i += 25) {
    const chunk = usernames.slice(i, i + 25);
    let items = {
      [table]: chunk.map((u) => ({ PutRequest: { Item: userItem(u, activationUrlBase) } })),
    };
    while (Object.keys(items).length > 0) {
      const { UnprocessedItems } = await doc.send(new BatchWriteCommand({ RequestItems: items }));
      items = UnprocessedItems ?? {};
    }
  }
}

async function pipelineDrain(system, doc, inbox) {
  const usernames = Array.from({ length: DRAIN_USERS }, (_, i) => `drain${i}`);
  const started = performance.now();
  await writeUsers(
    doc,
    'User',
    usernames,
    `${system.api.replace('127.0.0.1', 'localhost')}/activate`,
  );
  const written = performance.now();
  const arrivals = await Promise.all(usernames.map((u) => inbox.arrived(`${u}@bench.example`)));
  const last = Math.max(...arrivals);
  return {
    writeSeconds: (written - started) / 1000,
    seconds: (last - started) / 1000,
    mailsPerSecond: DRAIN_USERS / ((last - started) / 1000),
  };
}

/** The per-mail calls alone, FLOOR_IN_FLIGHT mails at a time, on a scratch table. */
async function callFloor(system, dynamodb, doc) {
  const table = `PaceFloor${Date.now() % 100000}`;
  await dynamodb.send(
    new CreateTableCommand({
      TableName: table,
      KeySchema: [{ AttributeName: 'username', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'username', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await waitUntilTableExists({ client: dynamodb, maxWaitTime: 30 }, { TableName: table });
  const ses = new SESClient({
    endpoint: system.ses,
    region: 'us-east-1',
    credentials: CREDENTIALS,
  });
  try {
    const usernames = Array.from({ length: FLOOR_MAILS }, (_, i) => `floor${i}`);
    await writeUsers(doc, table, usernames, 'http://localhost/activate');
    const key = (username) => ({ TableName: table, Key: { username } });
    const oneMail = async (username) => {
      await doc.send(new GetCommand({ ...key(username), ConsistentRead: true }));
      await doc.send(new GetCommand({ ...key(username), ConsistentRead: true }));
      await doc.send(
        new UpdateCommand({
          ...key(username),
          UpdateExpression:
            'SET mailClaimId = :c, mailClaimExpiresAt = :e, activationTokenHash = :h',
          ConditionExpression: 'activationStatus = :none AND attribute_not_exists(mailClaimId)',
          ExpressionAttributeValues: {
            ':c': 'claim',
            ':e': 'later',
            ':h': 'hash',
            ':none': 'NONE',
          },
        }),
      );
      await ses.send(
        new SendEmailCommand({
          Source: 'floor@card-store.example',
          Destination: { ToAddresses: [`${username}@floor.example`] },
          Message: {
            Subject: { Data: 'floor' },
            Body: { Text: { Data: 'floor' }, Html: { Data: '<p>floor</p>' } },
          },
        }),
      );
      await doc.send(
        new UpdateCommand({
          ...key(username),
          UpdateExpression: 'SET activationStatus = :sent REMOVE mailClaimId, mailClaimExpiresAt',
          ConditionExpression: 'mailClaimId = :c',
          ExpressionAttributeValues: { ':c': 'claim', ':sent': 'MAIL_SENT' },
        }),
      );
    };
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: FLOOR_IN_FLIGHT }, async () => {
        while (next < usernames.length) await oneMail(usernames[next++]);
      }),
    );
    return { mailsPerSecond: FLOOR_MAILS / ((performance.now() - started) / 1000) };
  } finally {
    ses.destroy();
    await dynamodb.send(new DeleteTableCommand({ TableName: table }));
  }
}

/** A hostile mix, 20 in flight; returns the count of 5xx answers. */
async function hostile(system) {
  const kinds = [
    (i) => [`/users`, registration(`hostile${i}`)],
    (i) => [
      `/login`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: `hostile${i - 1}`, password: 'wrong password 1' }),
      },
    ],
    () => [
      `/users`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":' },
    ],
    () => [
      `/users`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          username: 'A',
          email: 'nope',
          admin: true,
          password: 'x'.repeat(200),
        }),
      },
    ],
    () => [`/health`, {}],
    () => [`/nowhere/${'x'.repeat(500)}`, {}],
    () => [`/activate?username=nobody&token=${'0'.repeat(64)}`, {}],
    () => [`/users/me`, { headers: { cookie: 'session=forged' } }],
    () => [`/users`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' }],
    () => [`/health`, {}],
  ];
  let next = 0;
  let serverErrors = 0;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < HOSTILE_REQUESTS) {
        const i = next++;
        const [path, init] = kinds[i % kinds.length](i);
        const response = await fetch(`${system.api}${path}`, init);
        await response.arrayBuffer();
        if (response.status >= 500) serverErrors++;
      }
    }),
  );
  return { serverErrors };
}

const system = await startLocalSystem('pace');
const dynamodbEndpoint = /DynamoDB Local\s+(\S+)/.exec(system.banner)[1];
const dynamodb = new DynamoDBClient({
  endpoint: dynamodbEndpoint,
  region: 'us-east-1',
  credentials: CREDENTIALS,
});
const doc = DynamoDBDocumentClient.from(dynamodb);
const inbox = inboxWatcher(system.ses);
try {
  const f = (ms) => `${ms.toFixed(0)} ms`;
  const readyRss = rssMiB(system.child.pid);
  const java = Number(
    execFileSync('pgrep', ['-f', '--', `-dbPath ${join(system.dataDir, 'dynamodb')}`])
      .toString()
      .trim()
      .split('\n')[0],
  );
  const pids = { node: system.child.pid, java, bench: process.pid };
  const pace = await withCpu('the steady rate', pids, () => steadyLatency(system, inbox));
  const s = pace.samples;
  console.log(
    `201 -> mail at a steady ${PACE_RATE} registrations/s (${pace.total} over ${pace.sentOverSeconds.toFixed(1)} s, open loop):`,
  );
  console.log(
    `  p50 ${f(percentile(s, 50))}  p90 ${f(percentile(s, 90))}  p99 ${f(percentile(s, 99))}  max ${f(s[s.length - 1])}`,
  );
  const drain = await withCpu('the drain', pids, () => pipelineDrain(system, doc, inbox));
  const floor = await withCpu('the floor', pids, () => callFloor(system, dynamodb, doc));
  console.log(
    `pipeline alone, ${DRAIN_USERS} users written at once: ${drain.mailsPerSecond.toFixed(1)} mails/s ` +
      `(all mailed ${drain.seconds.toFixed(1)} s after the first write; writing took ${drain.writeSeconds.toFixed(1)} s)`,
  );
  console.log(
    `floor, the per-mail DynamoDB and SES calls alone (${FLOOR_IN_FLIGHT} in flight): ${floor.mailsPerSecond.toFixed(1)} mails/s; ` +
      `drain / floor = ${(drain.mailsPerSecond / floor.mailsPerSecond).toFixed(2)}`,
  );
  const { serverErrors } = await hostile(system);
  const loadedRss = rssMiB(system.child.pid);
  console.log(
    `Node RSS: ${readyRss.toFixed(0)} MiB when ready, ${loadedRss.toFixed(0)} MiB after ${HOSTILE_REQUESTS} mixed requests (${serverErrors} × 5xx)`,
  );
} finally {
  await inbox.stop();
  dynamodb.destroy();
  await system.stop();
}
