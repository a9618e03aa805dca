/**
 * The published rate limits over the real DynamoDB Local: 429 in the error shape with
 * Retry-After and the IETF RateLimit headers, counters shared by two app instances,
 * expiry, no overshoot under concurrency, the sign-in lock (per address first, per account
 * at a far higher count), unknown identifiers limited like known ones, no dodging by
 * X-Forwarded-For, and fail-closed when the limiter's table is missing.
 *
 * Requests from another client address leave from 127.0.0.2 (Linux routes all of
 * 127.0.0.0/8 to loopback), so the server sees a different socket peer.
 */
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import request from 'supertest';
import { createTestApp, type TestApp } from '../support/test-app';
import { activatedUser, expectApiError, newRegistration, type Registration } from './api-helpers';

/** Small limits so that each test reaches them in a handful of requests. */
const LIMITS = {
  RATE_LIMIT_SCALE: '1',
  RATE_LIMIT_REGISTER_PER_ADDRESS: '3/1h',
  RATE_LIMIT_LOGIN_PER_ACCOUNT_AND_ADDRESS: '3/15m',
  RATE_LIMIT_LOGIN_PER_ACCOUNT: '6/1h',
  RATE_LIMIT_LOGIN_PER_ADDRESS: '50/15m',
  RATE_LIMIT_ACTIVATE_PER_ADDRESS: '10/15m',
  RATE_LIMIT_ACTIVATE_PER_ACCOUNT: '50/1h',
};

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Record<string, unknown>;
  readonly text: string;
}

/** Listens on 127.0.0.1 so that a request can come from another loopback address. */
async function listening(api: TestApp): Promise<number> {
  if (!api.http.listening) {
    await new Promise<void>((resolve) => api.http.listen(0, '127.0.0.1', resolve));
  }
  return (api.http.address() as AddressInfo).port;
}

/** POSTs from `from` (a loopback address): JSON, or the raw `form` when given. */
async function post(
  api: TestApp,
  path: string,
  body: unknown,
  {
    from = '127.0.0.1',
    headers = {},
    form,
  }: { from?: string; headers?: Record<string, string>; form?: string } = {},
): Promise<Answer> {
  const port = await listening(api);
  const payload = form ?? JSON.stringify(body);
  const type = form === undefined ? 'application/json' : 'application/x-www-form-urlencoded';
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        localAddress: from,
        agent: false,
        headers: { 'content-type': type, ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {},
            text,
          }),
        );
      },
    );
    req.once('error', reject);
    req.end(payload);
  });
}

const badLogin = (username: string) => ({ username, password: 'not the password at all' });
const invalidActivation = (username: string) => ({ username, token: 'x' });

function expectRateLimited(answer: Answer, limitName: string): void {
  expect({ status: answer.status, code: answer.body.code }).toEqual({
    status: 429,
    code: 'RATE_LIMITED',
  });
  expect(answer.body).toEqual({
    statusCode: 429,
    error: 'Too Many Requests',
    code: 'RATE_LIMITED',
    message: expect.stringMatching(/^Too many requests; try again in \d+ seconds\.$/),
    requestId: expect.any(String),
  });
  const retryAfter = Number(answer.headers['retry-after']);
  expect(retryAfter).toBeGreaterThan(0);
  expect(String(answer.headers['ratelimit-policy'])).toContain(`"${limitName}";q=`);
  expect(String(answer.headers.ratelimit)).toContain(`"${limitName}";r=0;t=${retryAfter}`);
}

describe('rate limits', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await createTestApp({ env: LIMITS });
  });

  afterAll(async () => {
    await api.close();
  });

  describe('POST /users, per client address', () => {
    it('answers the request after the limit with 429, Retry-After and the RateLimit headers', async () => {
      const from = '127.0.0.11';
      const answers: Answer[] = [];
      // Invalid bodies count too: the limit is on requests, before anything is read.
      for (let i = 0; i < 3; i += 1) answers.push(await post(api, '/users', {}, { from }));

      const over = await post(api, '/users', newRegistration(), { from });

      expect(answers.map((answer) => answer.status)).toEqual([400, 400, 400]);
      expect(answers.map((answer) => answer.headers['ratelimit'])).toEqual([
        expect.stringMatching(/^"register-address";r=2;t=\d+$/),
        expect.stringMatching(/^"register-address";r=1;t=\d+$/),
        expect.stringMatching(/^"register-address";r=0;t=\d+$/),
      ]);
      expect(answers[0]!.headers['ratelimit-policy']).toBe('"register-address";q=3;w=3600');
      expectRateLimited(over, 'register-address');
      expect(Number(over.headers['retry-after'])).toBeGreaterThan(3500);
    });

    it('is not dodged by a forged X-Forwarded-For', async () => {
      const from = '127.0.0.12';
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        const forged = { 'x-forwarded-for': `203.0.113.${i}`, 'x-real-ip': `198.51.100.${i}` };
        statuses.push((await post(api, '/users', {}, { from, headers: forged })).status);
      }

      expect(statuses).toEqual([400, 400, 400, 429, 429]);
    });

    it('counts each address on its own', async () => {
      for (let i = 0; i < 3; i += 1) await post(api, '/users', {}, { from: '127.0.0.13' });

      expect((await post(api, '/users', {}, { from: '127.0.0.13' })).status).toBe(429);
      expect((await post(api, '/users', {}, { from: '127.0.0.14' })).status).toBe(400);
    });

    it('shares the counter between two instances over one table', async () => {
      const second = await createTestApp({ tables: api.tables });
      try {
        const from = '127.0.0.15';
        const statuses = [
          (await post(api, '/users', {}, { from })).status,
          (await post(second, '/users', {}, { from })).status,
          (await post(api, '/users', {}, { from })).status,
          (await post(second, '/users', {}, { from })).status,
        ];

        expect(statuses).toEqual([400, 400, 400, 429]);
      } finally {
        await second.close();
      }
    });
  });

  describe('POST /login', () => {
    it('locks one account for one address after the limit, whether the password is right or not', async () => {
      const owner = await activatedUser(api);
      const from = '127.0.0.21';
      const wrong: number[] = [];
      for (let i = 0; i < 3; i += 1)
        wrong.push((await post(api, '/login', badLogin(owner.username), { from })).status);

      const right = await post(
        api,
        '/login',
        { username: owner.username, password: owner.password },
        { from },
      );

      expect(wrong).toEqual([401, 401, 401]);
      expectRateLimited(right, 'login-account-address');
      expect(right.headers['set-cookie']).toBeUndefined();
      // The owner, from another address, still gets in.
      const elsewhere = await post(
        api,
        '/login',
        { username: owner.username, password: owner.password },
        { from: '127.0.0.22' },
      );
      expect(elsewhere.status).toBe(200);
    });

    it('limits an unknown username exactly like a known one', async () => {
      const known = await activatedUser(api);
      const unknown = newRegistration().username;
      const run = async (username: string, from: string) => {
        const answers: Answer[] = [];
        for (let i = 0; i < 4; i += 1)
          answers.push(await post(api, '/login', badLogin(username), { from }));
        return answers.map((answer) => ({
          status: answer.status,
          code: answer.body.code,
          policy: answer.headers['ratelimit-policy'],
          remaining: /r=(\d+)/.exec(String(answer.headers.ratelimit))?.[1],
        }));
      };

      expect(await run(unknown, '127.0.0.23')).toEqual(await run(known.username, '127.0.0.24'));
    });

    it('locks the account itself only at its far higher count, from any address', async () => {
      const owner = await activatedUser(api);
      const statuses: number[] = [];
      // Two guesses from each of three addresses: under the per-address lock every time.
      for (const from of ['127.0.0.31', '127.0.0.32', '127.0.0.33']) {
        for (let i = 0; i < 2; i += 1)
          statuses.push((await post(api, '/login', badLogin(owner.username), { from })).status);
      }

      const fourth = await post(api, '/login', badLogin(owner.username), { from: '127.0.0.34' });

      expect(statuses).toEqual([401, 401, 401, 401, 401, 401]);
      expectRateLimited(fourth, 'login-account');
    });

    it('counts usernames as sign-in reads them: letter case and spaces make no new key', async () => {
      const from = '127.0.0.35';
      const username = newRegistration().username;
      const spellings = [username, username.toUpperCase(), `  ${username} `];
      const statuses: number[] = [];
      for (const spelling of spellings)
        statuses.push((await post(api, '/login', badLogin(spelling), { from })).status);

      expect(statuses).toEqual([401, 401, 401]);
      expect((await post(api, '/login', badLogin(username), { from })).status).toBe(429);
    });
  });

  describe('POST /activate', () => {
    it('answers a browser over the limit with a page that says how long to wait', async () => {
      const from = '127.0.0.41';
      for (let i = 0; i < 10; i += 1)
        await post(api, '/activate', invalidActivation('someone'), { from });

      const page = await post(api, '/activate', undefined, {
        from,
        headers: { accept: 'text/html' },
        form: 'username=someone&token=x',
      });

      expect(page.status).toBe(429);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.text).toContain('Too many attempts');
      expect(page.text).toMatch(/Please wait 1[45] minutes/);
    });
  });

  it('does not limit routes that declare no limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await request(api.http).get('/health')).status);

    expect(statuses).toEqual([200, 200, 200, 200, 200]);
  });
});

describe('rate limits: the limiter table failing', () => {
  let api: TestApp;
  let owner: Registration;

  beforeAll(async () => {
    api = await createTestApp({ env: LIMITS });
    owner = await activatedUser(api);
    // The stack was deployed without the table, or someone deleted it: a request that
    // cannot be counted is refused, never let through.
    await api.tables.client.send(
      new DeleteTableCommand({ TableName: api.config.dynamodb.tables.rateLimits }),
    );
  });

  afterAll(async () => {
    await api.close();
  });

  it('refuses sign-in with 503 RATE_LIMITER_UNAVAILABLE and Retry-After (fail-closed)', async () => {
    const response = await request(api.http)
      .post('/login')
      .send({ username: owner.username, password: owner.password });

    expectApiError(response, 503, 'RATE_LIMITER_UNAVAILABLE');
    expect(response.headers['retry-after']).toBe('5');
    expect(response.headers['set-cookie']).toBeUndefined();
  });
});
