// Measures the local system's start-up and memory: spawns the built entry point (as
// `npm start` does) on free ports with a fresh data folder, several times, and prints
// - total time to the ready banner (DynamoDB Local start + tables + API),
// - the API's own start-up after DynamoDB is up (from the banner),
// - RSS of the Node process and of the Java process when ready and after 200 requests.
// Run: npm run bench  (builds first). Compare figures as ratios within one run.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalSystem } from './local-system.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);

const rssMiB = (pid) => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line.split(/\s+/)[1]) / 1024;
};

const javaPidFor = (dataDir) =>
  Number(
    execFileSync('pgrep', ['-f', '--', `-dbPath ${join(dataDir, 'dynamodb')}`])
      .toString()
      .trim()
      .split('\n')[0],
  );

async function once() {
  const system = await startLocalSystem('bench');
  try {
    return await measure(system);
  } finally {
    await system.stop();
  }
}

async function measure({ child, dataDir, banner, readyMs, api: base }) {
  const apiMs = Number(/API (\d+) ms after DynamoDB/.exec(banner)[1]);
  const javaPid = javaPidFor(dataDir);
  const ready = { node: rssMiB(child.pid), java: rssMiB(javaPid) };
  for (let i = 0; i < REQUESTS; i++) {
    const body = JSON.stringify({
      username: `bench${i}`,
      email: `bench${i}@example.org`,
      name: 'Bench',
      password: 'bench password',
    });
    const response = await fetch(
      `${base}/${i % 2 ? 'health' : 'users'}`,
      i % 2 ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body },
    );
    await response.arrayBuffer();
  }
  const loaded = { node: rssMiB(child.pid), java: rssMiB(javaPid) };
  return { readyMs, apiMs, ready, loaded };
}

const results = [];
for (let run = 1; run <= RUNS; run++) results.push(await once());
const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fmt = (n) => n.toFixed(0);
console.log(`card-store start-up (${RUNS} runs, medians; Node ${process.version})`);
console.log(`  ready banner, total            ${fmt(median(results.map((r) => r.readyMs)))} ms`);
console.log(`  API start after DynamoDB ready ${fmt(median(results.map((r) => r.apiMs)))} ms`);
console.log(
  `  RSS when ready: Node ${fmt(median(results.map((r) => r.ready.node)))} MiB, Java ${fmt(median(results.map((r) => r.ready.java)))} MiB`,
);
console.log(
  `  RSS after ${REQUESTS} requests: Node ${fmt(median(results.map((r) => r.loaded.node)))} MiB, Java ${fmt(median(results.map((r) => r.loaded.java)))} MiB`,
);
