// What a rate limit costs a request: one run over the built system (`npm start` on free
// ports, a fresh data folder), ROUNDS rounds of three requests one after another, each
// answered without touching a user:
//   POST /logout without a cookie          no limit              (0 counter writes)
//   POST /users with an empty body         register-address      (1 UpdateItem, then 400)
//   POST /login without a password         3 sign-in limits      (3 UpdateItems, then 400)
//   POST /activate without a password      2 activation limits   (4 UpdateItems, then 400)
//                                          + 2 of sign-in's
// and prints p50 / p99 per route and the p50 difference to the unlimited one. The system
// runs with RATE_LIMIT_SCALE=1000 (as every bench), so no request is refused: the counters
// are written all the same. Loopback only, bounded in count. Run: npm run bench:rate-limits
import { startLocalSystem } from './local-system.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 2_000);
const WARM_UP = 200;

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

const ROUTES = [
  { label: 'POST /logout (no limit)', path: '/logout', body: () => undefined },
  { label: 'POST /users (1 limit)', path: '/users', body: () => '{}' },
  {
    label: 'POST /login (3 limits)',
    path: '/login',
    body: (i) => JSON.stringify({ username: `bench-${i % 500}` }),
  },
  {
    label: 'POST /activate (4 limits)',
    path: '/activate',
    body: (i) => JSON.stringify({ username: `bench-${i % 500}`, token: 'x' }),
  },
];

const system = await startLocalSystem('rate-limits');
try {
  const timings = ROUTES.map(() => []);
  for (let i = 0; i < WARM_UP + ROUNDS; i += 1) {
    for (const [index, route] of ROUTES.entries()) {
      const body = route.body(i);
      const started = performance.now();
      const response = await fetch(`${system.api}${route.path}`, {
        method: 'POST',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body,
      });
      await response.arrayBuffer();
      const ms = performance.now() - started;
      if (response.status >= 429) throw new Error(`${route.path}: ${response.status}`);
      if (i >= WARM_UP) timings[index].push(ms);
    }
  }
  const p50s = [];
  console.log(`${ROUNDS} requests per route, one at a time (after ${WARM_UP} to warm up):`);
  for (const [index, route] of ROUTES.entries()) {
    const sorted = timings[index].sort((a, b) => a - b);
    const p50 = percentile(sorted, 50);
    p50s.push(p50);
    const extra = index === 0 ? '' : `  (+${(p50 - p50s[0]).toFixed(2)} ms at p50)`;
    console.log(
      `  ${route.label.padEnd(28)} p50 ${p50.toFixed(2)} ms  p99 ${percentile(sorted, 99).toFixed(2)} ms${extra}`,
    );
  }
} finally {
  await system.stop();
}
