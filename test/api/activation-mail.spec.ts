/**
 * `POST /activation-mail` over DynamoDB Local: one answer whatever the account, what each
 * kind of account gets written, the older links dying, bad input (JSON and the page's
 * form), the resend form on the "link not valid" page, and the per-identifier mail budget
 * (a 429 that says nothing about accounts either). The mails themselves:
 * test/e2e/mail-requests.spec.ts.
 */
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import request, { type Response } from 'supertest';
import { MAIL_REQUEST_ID_PATTERN, UserStore } from '../../src/activation';
import {
  activateDirectly,
  claimTokenDirectly,
} from '../../src/activation/testing/activate-directly';
import { ACTIVATION_MAIL_REQUESTED } from '../../src/users/activation/activation-mail.controller';
import { INVALID_IDENTIFIER_PROBLEM } from '../../src/users/activation/activation-pages';
import { createTestApp, type TestApp } from '../support/test-app';
import {
  activatedUser,
  allItems,
  claimActivationToken,
  expectApiError,
  expectFieldErrors,
  mailedUser,
  newRegistration,
  registered,
  userItem,
} from './api-helpers';

/** Headers that differ from one request to the next whatever the account. */
const PER_REQUEST_HEADERS = ['date', 'x-request-id', 'ratelimit', 'ratelimit-policy'];

const stableHeaders = (response: Response) =>
  Object.fromEntries(
    Object.entries(response.headers as Record<string, string>).filter(
      ([name]) => !PER_REQUEST_HEADERS.includes(name),
    ),
  );

const headingOf = (html: string) => /<h1>([^<]*)<\/h1>/.exec(html)?.[1];

/** Every `<form ...>` start tag of a page. */
const formsOf = (html: string) => [...html.matchAll(/<form\b[^>]*>/g)].map((match) => match[0]);

describe('POST /activation-mail', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await createTestApp();
  });

  afterAll(async () => {
    await api.close();
  });

  const resend = (body: unknown) =>
    request(api.http)
      .post('/activation-mail')
      .send(body as object);
  const resendForm = (body: string) =>
    request(api.http).post('/activation-mail').type('form').send(body);

  /** Whether the old token still activates the account, over the API. */
  const activateWith = (user: { username: string; password: string }, token: string) =>
    request(api.http)
      .post('/activate')
      .send({ username: user.username, token, password: user.password });

  describe('one answer for every account', () => {
    it('answers a pending, an active and an unknown account with the same 202, byte for byte and header for header', async () => {
      const pending = await registered(api);
      const active = await activatedUser(api);

      const answers = [
        await resend({ email: pending.email }),
        await resend({ username: pending.username }),
        await resend({ email: active.email }),
        await resend({ username: active.username }),
        await resend({ email: newRegistration().email }),
        await resend({ username: newRegistration().username }),
      ];

      expect(answers.map((answer) => answer.status)).toEqual([202, 202, 202, 202, 202, 202]);
      expect(answers[0]!.body).toEqual(ACTIVATION_MAIL_REQUESTED);
      expect(answers[0]!.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(new Set(answers.map((answer) => answer.text)).size).toBe(1);
      const headers = answers.map(stableHeaders);
      for (const each of headers) expect(each).toEqual(headers[0]);
      // The activation routes' privacy headers, on every answer.
      expect(headers[0]).toMatchObject({
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
        'x-robots-tag': 'noindex, nofollow',
      });
      expect(answers[0]!.headers['set-cookie']).toBeUndefined();
    });
  });

  describe('what each account gets written', () => {
    it('a pending account (mail sent): a new ACTIVATION request, back to NONE, its token gone', async () => {
      const person = await mailedUser(api);
      const before = await userItem(api, person.username);
      expect(before).toMatchObject({ activationStatus: 'MAIL_SENT' });
      expect(before?.activationTokenHash).toEqual(expect.any(String));

      expect((await resend({ email: person.email.toUpperCase() })).status).toBe(202);

      const after = await userItem(api, person.username);
      expect(after).toMatchObject({ activationStatus: 'NONE', mailRequestKind: 'ACTIVATION' });
      expect(after?.mailRequestId).toMatch(MAIL_REQUEST_ID_PATTERN);
      expect(after?.activationTokenHash).toBeUndefined();
      expect(after?.activationTokenExpiresAt).toBeUndefined();
      expect(after?.mailClaimId).toBeUndefined();
      // Still the same pending account, expiring when it did.
      expect(after).toMatchObject({
        email: before?.email,
        passwordHash: before?.passwordHash,
        expiresAt: before?.expiresAt,
      });
    });

    it('a second request replaces the first: a new request id each time', async () => {
      const person = await registered(api);
      const registeredRequest = (await userItem(api, person.username))?.mailRequestId;

      await resend({ username: person.username });
      const first = (await userItem(api, person.username))?.mailRequestId;
      await resend({ email: person.email });
      const second = (await userItem(api, person.username))?.mailRequestId;

      expect(new Set([registeredRequest, first, second]).size).toBe(3);
      expect([first, second]).toEqual([
        expect.stringMatching(MAIL_REQUEST_ID_PATTERN),
        expect.stringMatching(MAIL_REQUEST_ID_PATTERN),
      ]);
    });

    it('an active account: an ALREADY_ACTIVE notice request, and it stays active', async () => {
      const active = await activatedUser(api);
      const before = await userItem(api, active.username);

      expect((await resend({ email: ` ${active.email.toUpperCase()} ` })).status).toBe(202);

      const after = await userItem(api, active.username);
      expect(after).toMatchObject({ activationStatus: 'DONE', mailRequestKind: 'ALREADY_ACTIVE' });
      expect(after?.mailRequestId).toMatch(MAIL_REQUEST_ID_PATTERN);
      const { mailRequestId: _id, mailRequestKind: _kind, ...rest } = after!;
      expect(rest).toEqual(before);
    });

    it('an account activated while its request was under way: stays active, nothing written', async () => {
      const person = await registered(api);
      // The service read the account while it was still pending; its click came first.
      const stale = await api.tables.users.findByUsername(person.username);
      await activateDirectly(api.tables.users, person.username);
      const before = await userItem(api, person.username);
      const read = jest.spyOn(api.app.get(UserStore), 'findByUsername');
      read.mockResolvedValueOnce(stale);
      try {
        expect((await resend({ email: person.email })).status).toBe(202);
        expect(read).toHaveBeenCalledWith(person.username);
      } finally {
        read.mockRestore();
      }

      expect(await userItem(api, person.username)).toEqual(before);
      expect(before).toMatchObject({ activationStatus: 'DONE' });
    });

    it('an unknown address or username: nothing written anywhere', async () => {
      await registered(api);
      const snapshot = async () => ({
        users: await allItems(api, 'users'),
        userEmails: await allItems(api, 'userEmails'),
      });
      const before = await snapshot();

      expect((await resend({ email: newRegistration().email })).status).toBe(202);
      expect((await resend({ username: newRegistration().username })).status).toBe(202);

      expect(await snapshot()).toEqual(before);
    });
  });

  describe('every older link stops working', () => {
    it.each([
      ['a claimed token whose mail may be on its way', false],
      ['the token of a mail that was sent', true],
    ])('%s no longer activates; the new request’s token does', async (_case, markSent) => {
      const person = await registered(api);
      const { token: old } = await claimActivationToken(api, person.username, { markSent });

      expect((await resend({ email: person.email })).status).toBe(202);

      expectApiError(await activateWith(person, old), 400, 'ACTIVATION_LINK_INVALID');
      expect((await userItem(api, person.username))?.activationStatus).toBe('NONE');
      // The new request's mail (its claim) gives a token that works.
      const now = new Date();
      const { token: fresh } = await claimTokenDirectly(api.tables.users, person.username, {
        now,
        tokenExpiresAt: new Date(now.getTime() + 3_600_000),
        leaseExpiresAt: new Date(now.getTime() + 60_000),
      });
      expect((await activateWith(person, fresh)).status).toBe(200);
      expect((await userItem(api, person.username))?.activationStatus).toBe('DONE');
    });

    it('a link claimed directly, then a resend by username: 400 ACTIVATION_LINK_INVALID', async () => {
      const person = await registered(api);
      const now = new Date();
      const { token } = await claimTokenDirectly(api.tables.users, person.username, {
        now,
        tokenExpiresAt: new Date(now.getTime() + 3_600_000),
        leaseExpiresAt: new Date(now.getTime() + 60_000),
      });

      expect((await resend({ username: person.username.toUpperCase() })).status).toBe(202);

      expectApiError(await activateWith(person, token), 400, 'ACTIVATION_LINK_INVALID');
    });
  });

  describe('validation (JSON)', () => {
    it.each([
      ['no field', {}, ['email']],
      ['a null address', { email: null }, ['email']],
      ['a number for the address', { email: 42 }, ['email']],
      ['a list for the address', { email: ['a@example.org'] }, ['email']],
      ['a number for the username', { username: 42 }, ['username']],
      ['an address that is none', { email: 'not an address' }, ['email']],
      ['an address no mail can reach', { email: 'jürgen@example.org' }, ['email']],
      ['a username that breaks the rules', { username: 'a' }, ['username']],
      ['an unknown field', { email: 'a@example.org', admin: true }, ['admin']],
    ])('refuses %s with 400 VALIDATION_FAILED, naming the field', async (_case, body, fields) => {
      expectFieldErrors(await resend(body), fields);
    });

    it('says that an address (or a username) is required when neither is given', async () => {
      const response = await resend({});

      expectFieldErrors(response, ['email']);
      expect((response.body as { errors: { messages: string[] }[] }).errors[0]!.messages).toEqual([
        'email (or username) is required',
      ]);
    });

    it('with both given, checks and uses the address only', async () => {
      const [byAddress, byUsername] = [await mailedUser(api), await mailedUser(api)];
      const before = await userItem(api, byUsername.username);

      expectFieldErrors(await resend({ email: 'nope', username: byUsername.username }), ['email']);
      expect((await resend({ email: byAddress.email, username: byUsername.username })).status).toBe(
        202,
      );

      expect(await userItem(api, byAddress.username)).toMatchObject({
        mailRequestKind: 'ACTIVATION',
      });
      expect(await userItem(api, byUsername.username)).toEqual(before);
    });

    it('writes nothing for a refused request, even with a real account in it', async () => {
      const person = await mailedUser(api);
      const before = await userItem(api, person.username);

      expectFieldErrors(await resend({ email: person.email, admin: true }), ['admin']);
      expectFieldErrors(await resend({ username: person.username, admin: true }), ['admin']);
      expectFieldErrors(await resend({ email: [person.email] }), ['email']);

      expect(await userItem(api, person.username)).toEqual(before);
    });
  });

  describe('the form (a browser)', () => {
    it('answers with the "Check your inbox" page (202), the same for every account, and writes the request', async () => {
      const pending = await mailedUser(api);
      const active = await activatedUser(api);

      const pages = [
        await resendForm(`email=${encodeURIComponent(pending.email)}`),
        await resendForm(`email=${encodeURIComponent(active.email)}`),
        await resendForm(`email=${encodeURIComponent(newRegistration().email)}`),
      ];

      for (const page of pages) {
        expect(page.status).toBe(202);
        expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(headingOf(page.text)).toBe('Check your inbox');
        expect(page.headers['content-security-policy']).toContain("default-src 'none'");
      }
      expect(new Set(pages.map((page) => page.text)).size).toBe(1);
      const headers = pages.map(stableHeaders);
      for (const each of headers) expect(each).toEqual(headers[0]);
      expect(await userItem(api, pending.username)).toMatchObject({
        activationStatus: 'NONE',
        mailRequestKind: 'ACTIVATION',
      });
      expect((await userItem(api, pending.username))?.activationTokenHash).toBeUndefined();
      expect(await userItem(api, active.username)).toMatchObject({
        activationStatus: 'DONE',
        mailRequestKind: 'ALREADY_ACTIVE',
      });
    });

    it.each([
      ['an address that is none', 'email=%3Cscript%3Ealert(1)%3C%2Fscript%3E'],
      ['an empty address', 'email='],
      ['no field', ''],
      ['a repeated field', 'email=a%40example.org&email=b%40example.org'],
      ['an unknown field', 'email=a%40example.org&admin=1'],
    ])('shows the resend form again (400) with the problem, for %s', async (_case, body) => {
      const page = await resendForm(body);

      expect(page.status).toBe(400);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(headingOf(page.text)).toBe('Get a new activation mail');
      // The problem, once at the top (focused, linking to the field) and next to the field.
      expect(page.text).toContain(
        '<div class="error-summary" role="alert" aria-labelledby="resend-error-summary-title" tabindex="-1" autofocus>',
      );
      expect(page.text.match(/<li>[\s\S]*?<\/li>/g)).toEqual([
        `<li><a href="#resend-email">${INVALID_IDENTIFIER_PROBLEM}</a></li>`,
      ]);
      expect(page.text).toContain(
        `<p class="field-error" id="resend-email-error"><span class="error-prefix">Error:</span> ${INVALID_IDENTIFIER_PROBLEM} </p>`,
      );
      expect(page.text).toContain(
        '<input id="resend-email" name="email" type="email" autocomplete="email" aria-describedby="resend-email-error" aria-invalid="true" maxlength="320" required>',
      );
      expect(formsOf(page.text)).toEqual([
        '<form method="post" action="./activation-mail" novalidate>',
      ]);
      // Nothing that was sent comes back.
      expect(page.text).not.toMatch(/<script>|alert\(1\)|a@example\.org|b@example\.org|admin/);
    });

    it('writes nothing for a form that fails validation', async () => {
      const person = await mailedUser(api);
      const before = await userItem(api, person.username);

      const page = await resendForm(`email=${encodeURIComponent(person.email)}&admin=1`);

      expect(page.status).toBe(400);
      expect(await userItem(api, person.username)).toEqual(before);
    });
  });

  describe('the "link not valid" page', () => {
    it('has exactly one form, the resend form, posting to activation-mail next to it', async () => {
      const page = await request(api.http).get('/activate');

      expect(page.status).toBe(400);
      expect(headingOf(page.text)).toBe('This activation link is not valid or has expired');
      const forms = formsOf(page.text);
      expect(forms).toEqual(['<form method="post" action="./activation-mail" novalidate>']);
      expect(page.text).toContain(
        '<input id="resend-email" name="email" type="email" autocomplete="email" maxlength="320" required>',
      );
      // The relative action, resolved as a browser does against the page's URL, is this
      // route, under a path prefix too.
      const relative = /action="([^"]*)"/.exec(forms[0]!)![1]!;
      expect(new URL(relative, 'https://x.example/prod/activate').pathname).toBe(
        '/prod/activation-mail',
      );
      const action = new URL(relative, 'http://cards.test/activate');
      expect(action.pathname).toBe('/activation-mail');
      const person = await registered(api);
      const posted = await request(api.http)
        .post(action.pathname)
        .type('form')
        .send(`email=${encodeURIComponent(person.email)}`);
      expect(posted.status).toBe(202);
      expect(headingOf(posted.text)).toBe('Check your inbox');
    });
  });
});

describe('POST /activation-mail: the mail budget', () => {
  /** Small limits, unscaled, so that each test reaches them in a request or two. */
  const LIMITS = {
    RATE_LIMIT_SCALE: '1',
    RATE_LIMIT_MAIL_COOLDOWN: '1/1m',
    RATE_LIMIT_MAIL_PER_DAY: '5/1d',
    RATE_LIMIT_MAIL_PER_ADDRESS: '4/1h',
    RATE_LIMIT_REGISTER_PER_ADDRESS: '100/1h',
  };

  let api: TestApp;

  beforeAll(async () => {
    api = await createTestApp({ env: LIMITS });
  });

  afterAll(async () => {
    await api.close();
  });

  interface Answer {
    readonly status: number;
    readonly headers: Record<string, string | string[] | undefined>;
    readonly body: Record<string, unknown>;
    readonly text: string;
  }

  /** POSTs from `from`, a loopback address of its own, so each test has its own client budget. */
  async function post(
    body: unknown,
    { from, form }: { from: string; form?: string },
  ): Promise<Answer> {
    if (!api.http.listening) {
      await new Promise<void>((resolve) => api.http.listen(0, '127.0.0.1', resolve));
    }
    const { port } = api.http.address() as AddressInfo;
    const type = form === undefined ? 'application/json' : 'application/x-www-form-urlencoded';
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/activation-mail',
          method: 'POST',
          localAddress: from,
          agent: false,
          headers: { 'content-type': type },
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
      req.end(form ?? JSON.stringify(body));
    });
  }

  /** What a client can see of a 429, without the values that differ per request. */
  const shapeOf = (answer: Answer) => ({
    status: answer.status,
    code: answer.body.code,
    body: { ...answer.body, requestId: typeof answer.body.requestId },
    retryAfter: answer.headers['retry-after'] === undefined ? undefined : 'set',
    policy: answer.headers['ratelimit-policy'],
    remaining: String(answer.headers.ratelimit)
      .split(', ')
      .map((item) => item.replace(/;t=\d+$/, '')),
  });

  function expectRateLimited(answer: Answer, limitName: string): void {
    expect(answer.body).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      code: 'RATE_LIMITED',
      message: expect.stringMatching(/^Too many requests; try again in \d+ seconds\.$/),
      requestId: expect.any(String),
    });
    expect(answer.status).toBe(429);
    expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
    expect(String(answer.headers.ratelimit)).toContain(`"${limitName}";r=0;`);
  }

  it('declares all three limits of the mail budget', async () => {
    const answer = await post({ email: newRegistration().email }, { from: '127.0.0.61' });

    expect(answer.status).toBe(202);
    expect(String(answer.headers['ratelimit-policy']).split(', ').sort()).toEqual([
      '"mail-address";q=4;w=3600',
      '"mail-cooldown";q=1;w=60',
      '"mail-daily";q=5;w=86400',
    ]);
  });

  it('refuses a second request for one address within the cooldown with 429, and writes nothing', async () => {
    const person = await registered(api);
    const first = await post({ email: person.email }, { from: '127.0.0.62' });
    const requested = await userItem(api, person.username);

    // Another spelling of the same mailbox, from another client address: the same budget.
    const again = await post({ email: person.email.toUpperCase() }, { from: '127.0.0.63' });

    expect(first.status).toBe(202);
    expectRateLimited(again, 'mail-cooldown');
    expect(Number(again.headers['retry-after'])).toBeGreaterThanOrEqual(55);
    expect(await userItem(api, person.username)).toEqual(requested);
  });

  it('refuses an unknown address just the same, so a 429 reveals nothing', async () => {
    const pending = await registered(api);
    const active = await activatedUser(api);
    const run = async (body: object, from: string) => {
      const answers = [await post(body, { from }), await post(body, { from })];
      return answers.map(shapeOf);
    };

    const runs = [
      await run({ email: pending.email }, '127.0.0.64'),
      await run({ email: active.email }, '127.0.0.65'),
      await run({ email: newRegistration().email }, '127.0.0.66'),
      await run({ username: newRegistration().username }, '127.0.0.67'),
    ];

    expect(runs[0]!.map((answer) => answer.status)).toEqual([202, 429]);
    expect(runs[0]![1]!.code).toBe('RATE_LIMITED');
    for (const each of runs) expect(each).toEqual(runs[0]);
  });

  it('keys a username and an address apart: each has a budget of its own', async () => {
    const person = await registered(api);

    const byAddress = await post({ email: person.email }, { from: '127.0.0.68' });
    const byUsername = await post({ username: person.username }, { from: '127.0.0.68' });
    const byUsernameAgain = await post(
      { username: ` ${person.username.toUpperCase()}` },
      {
        from: '127.0.0.69',
      },
    );

    expect([byAddress.status, byUsername.status]).toEqual([202, 202]);
    expectRateLimited(byUsernameAgain, 'mail-cooldown');
  });

  it('limits one client address asking for many identifiers', async () => {
    const from = '127.0.0.70';
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1)
      statuses.push((await post({ email: newRegistration().email }, { from })).status);

    const over = await post({ email: newRegistration().email }, { from });

    expect(statuses).toEqual([202, 202, 202, 202]);
    expectRateLimited(over, 'mail-address');
  });

  it('answers a form over the limit with the "Too many attempts" page', async () => {
    const email = encodeURIComponent(newRegistration().email);
    const first = await post(undefined, { from: '127.0.0.71', form: `email=${email}` });

    const page = await post(undefined, { from: '127.0.0.71', form: `email=${email}` });

    expect(first.status).toBe(202);
    expect(page.status).toBe(429);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(headingOf(page.text)).toBe('Too many attempts');
    expect(page.headers['retry-after']).toEqual(expect.any(String));
  });

  describe('per day', () => {
    let daily: TestApp;

    beforeAll(async () => {
      daily = await createTestApp({
        env: { ...LIMITS, RATE_LIMIT_MAIL_COOLDOWN: '100/1m', RATE_LIMIT_MAIL_PER_DAY: '2/1d' },
      });
    });

    afterAll(async () => {
      await daily.close();
    });

    it('caps the requests for one identifier per day, across cooldowns', async () => {
      const person = await registered(daily);
      const ask = () => request(daily.http).post('/activation-mail').send({ email: person.email });

      const statuses = [(await ask()).status, (await ask()).status];
      const requested = await userItem(daily, person.username);
      const over = await ask();

      expect(statuses).toEqual([202, 202]);
      expectApiError(over, 429, 'RATE_LIMITED');
      expect(String(over.headers.ratelimit)).toContain('"mail-daily";r=0;');
      expect(Number(over.headers['retry-after'])).toBeGreaterThan(86_000);
      expect(await userItem(daily, person.username)).toEqual(requested);
    });
  });
});
