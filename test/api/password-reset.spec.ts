/**
 * The password reset over HTTP and DynamoDB Local: `POST /password-reset` (one answer for
 * every identifier, its validation, media types, sizes, pages and mail budget), the link's
 * page `GET /password-reset/new` (reads and changes nothing; a malformed link is the one
 * invalid-link page) and `POST /password-reset/new` (a live token sets the password, then
 * never again; every dead link is one answer; the password rules; its limits). Tokens are
 * planted through the store's own conditional writes, as the mail step makes them; the
 * whole journey through the inbox is test/e2e/password-reset.spec.ts.
 */
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import request, { type Response } from 'supertest';
import {
  Clock,
  MailRequestKind,
  MAIL_REQUEST_ID_PATTERN,
  mintActivationToken,
  newMailRequest,
} from '../../src/activation';
import { UNREADABLE_FORM } from '../../src/users/pages/form-state';
import { PAGE_CONTENT_SECURITY_POLICY, STYLESHEET } from '../../src/users/pages/page';
import {
  INVALID_ADDRESS_PROBLEM,
  PASSWORDS_DIFFER_PROBLEM,
} from '../../src/users/password/password-pages';
import { PASSWORD_RESET_REQUESTED } from '../../src/users/password/password-reset.controller';
import { createTestApp, type TestApp } from '../support/test-app';
import {
  activatedUser,
  allItems,
  expectApiError,
  expectFieldErrors,
  newRegistration,
  type Registration,
  registered,
  SESSION_COOKIE,
  setCookie,
  userItem,
} from './api-helpers';

/** Headers that differ from one request to the next whatever the account. */
const PER_REQUEST_HEADERS = ['date', 'x-request-id', 'ratelimit', 'ratelimit-policy'];

const stableHeaders = (response: { headers: Record<string, unknown> }) =>
  Object.fromEntries(
    Object.entries(response.headers).filter(([name]) => !PER_REQUEST_HEADERS.includes(name)),
  );

const headingOf = (html: string) => /<h1>([^<]*)<\/h1>/.exec(html)?.[1];

/** Every `<form ...>` start tag of a page. */
const formsOf = (html: string) => [...html.matchAll(/<form\b[^>]*>/g)].map((match) => match[0]);

/** The hidden fields of a page's forms, by name. */
const hiddenFieldsOf = (html: string) =>
  Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((match) => [
      match[1]!,
      match[2]!,
    ]),
  );

const REQUEST_FORM = 'Forgot your password?';
/** The one form of each page, relative to the app's root (`./` or `../` from the page). */
const REQUEST_FORM_TAG = '<form method="post" action="./password-reset" novalidate>';
const NEW_PASSWORD_FORM_TAG = '<form method="post" action="../password-reset/new" novalidate>';
const INVALID_LINK_FORM_TAG = '<form method="post" action="../password-reset" novalidate>';
const CHECK_INBOX = 'Check your inbox';
const NEW_PASSWORD_FORM = 'Choose a new password';
const PASSWORD_CHANGED = 'Your password was changed';
const INVALID_LINK = 'This password-reset link is not valid or has expired';
const TOO_MANY = 'Too many attempts';

const NEW_PASSWORD = 'a brand new passphrase';
/** A token of the right shape that was never issued. */
const NEVER_ISSUED = 'A'.repeat(43);

/** The app's root, relative to each page's path: where its links and forms point. */
const ROOT_OF: Record<string, string> = {
  '/password-reset': './',
  '/password-reset/new': '../',
};

/** The start tag of the input with id `id`. */
const inputOf = (html: string, id: string) =>
  new RegExp(`<input id="${id}" [^>]*>`).exec(html)?.[0];

/** The error summary's entries, in order: `the field's id: message`. */
const summaryOf = (html: string) =>
  [...html.matchAll(/<li><a href="#([^"]*)">([^<]*)<\/a><\/li>/g)].map(
    (match) => `${match[1]}: ${match[2]}`,
  );

/**
 * A form shown again with its problems, exactly these: each message in the error summary
 * at the top (the page's one alert, focused on load), as a link to its field, and next to
 * its field, which is marked invalid and described by it.
 */
function expectProblems(html: string, form: string, problems: Record<string, string>): void {
  const fields = Object.keys(problems);
  expect(html.match(/role="alert"/g)).toHaveLength(1);
  expect(html).toContain(
    `<div class="error-summary" role="alert" aria-labelledby="${form}-error-summary-title" tabindex="-1" autofocus>\n<h2 id="${form}-error-summary-title">There is a problem</h2>`,
  );
  expect(summaryOf(html)).toEqual(fields.map((field) => `${form}-${field}: ${problems[field]}`));
  expect(html.match(/class="field-error"/g)).toHaveLength(fields.length);
  expect(html.match(/aria-invalid="true"/g)).toHaveLength(fields.length);
  for (const field of fields) {
    expect(html).toContain(
      `<p class="field-error" id="${form}-${field}-error"><span class="error-prefix">Error:</span> ${problems[field]} </p>`,
    );
    expect(inputOf(html, `${form}-${field}`)).toContain(
      ` aria-describedby="${form}-${field}-error" aria-invalid="true"`,
    );
  }
}

/** A page that shows no problem at all. */
function expectNoProblem(html: string): void {
  expect(html).not.toMatch(/role="alert"|error-summary|field-error|aria-invalid/);
}

/** A page of the reset: its status and heading, HTML, and the pages' own strict headers. */
function expectPage(response: Response, status: number, heading: string): void {
  expect({ status: response.status, heading: headingOf(response.text) }).toEqual({
    status,
    heading,
  });
  expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(response.text).toMatch(/^<!doctype html>\n<html lang="en">[\s\S]*<\/html>\n$/);
  expect(response.headers['content-security-policy']).toBe(PAGE_CONTENT_SECURITY_POLICY);
  expect(PAGE_CONTENT_SECURITY_POLICY.split('; ')).toEqual([
    "default-src 'none'",
    "style-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ]);
  // Its one stylesheet, of this origin, relative to the app's root as seen from the page;
  // no inline style or script, which that policy would block.
  const root = ROOT_OF[new URL(response.request.url).pathname];
  expect(response.text.match(/<link [^>]*>/g)).toEqual([
    `<link rel="stylesheet" href="${root}${STYLESHEET.path}">`,
  ]);
  expect(response.text).not.toMatch(/<style|\sstyle=|<script|\son[a-z]+=/i);
  expect(response.headers).toMatchObject({
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-robots-tag': 'noindex, nofollow',
  });
  expect(response.headers['set-cookie']).toBeUndefined();
}

const linkPath = (username: string, token: string) =>
  `/password-reset/new?username=${encodeURIComponent(username)}&token=${encodeURIComponent(token)}`;

const formBody = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

/**
 * Gives an account a live reset token as the pipeline does, without the mail: the open
 * PASSWORD_RESET request `POST /password-reset` writes, the mail step's claim (which
 * stores the token's hash, valid for the configured TTL) and its "sent".
 */
async function plantResetToken(
  api: TestApp,
  username: string,
  now: Date = new Date(),
): Promise<{ token: string; expiresAt: Date }> {
  const store = api.tables.users;
  const open = newMailRequest(MailRequestKind.PASSWORD_RESET);
  if (!(await store.requestMail(username, open, now.toISOString()))) {
    throw new Error(`cannot open a reset request for '${username}'`);
  }
  const minted = mintActivationToken();
  const claimId = `test-${minted.hash.slice(0, 12)}`;
  const expiresAt = new Date(
    now.getTime() + api.config.activation.passwordResetTokenTtlSeconds * 1000,
  );
  const claim = await store.claimPasswordResetMail(username, {
    claimId,
    requestId: open.id,
    tokenHash: minted.hash,
    tokenExpiresAt: expiresAt.toISOString(),
    leaseExpiresAt: new Date(now.getTime() + 60_000).toISOString(),
    now: now.toISOString(),
  });
  if (!claim.claimed) throw new Error(`cannot claim the reset of '${username}': ${claim.reason}`);
  if (!(await store.markNoticeSent(username, claimId))) {
    throw new Error(`cannot mark the reset mail to '${username}' sent`);
  }
  return { token: minted.token, expiresAt };
}

describe('password reset', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await createTestApp();
  });
  afterAll(() => api.close());

  const requestReset = (body: unknown) =>
    request(api.http)
      .post('/password-reset')
      .send(body as object);
  const requestResetForm = (body: string) =>
    request(api.http).post('/password-reset').type('form').send(body);
  const resetJson = (body: unknown) =>
    request(api.http)
      .post('/password-reset/new')
      .send(body as object);
  const resetForm = (body: string) =>
    request(api.http).post('/password-reset/new').type('form').send(body);
  const login = (username: string, password: string) =>
    request(api.http).post('/login').send({ username, password });
  const me = (session: string) =>
    request(api.http).get('/users/me').set('Cookie', `${SESSION_COOKIE}=${session}`);

  /** An active account with a live reset token. */
  async function withResetLink(): Promise<Registration & { token: string }> {
    const user = await activatedUser(api);
    const { token } = await plantResetToken(api, user.username);
    return { ...user, token };
  }

  describe('POST /password-reset', () => {
    it('answers an active, a pending, an unknown address and an unknown username with the same 202, byte for byte and header for header', async () => {
      const active = await activatedUser(api);
      const pending = await registered(api);

      const answers = [
        await requestReset({ email: active.email }),
        await requestReset({ username: active.username }),
        await requestReset({ email: pending.email }),
        await requestReset({ username: pending.username }),
        await requestReset({ email: newRegistration().email }),
        await requestReset({ username: newRegistration().username }),
      ];

      expect(answers.map((answer) => answer.status)).toEqual([202, 202, 202, 202, 202, 202]);
      expect(answers[0]!.body).toEqual(PASSWORD_RESET_REQUESTED);
      expect(answers[0]!.body).toEqual({ message: expect.stringMatching(/^If an account has/) });
      expect(answers[0]!.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(new Set(answers.map((answer) => answer.text)).size).toBe(1);
      const headers = answers.map(stableHeaders);
      for (const each of headers) expect(each).toEqual(headers[0]);
      expect(headers[0]).toMatchObject({
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
        'x-robots-tag': 'noindex, nofollow',
      });
      expect(answers[0]!.headers['set-cookie']).toBeUndefined();
    });

    it('opens a PASSWORD_RESET request on a live account and kills its live link; writes nothing for no account', async () => {
      const active = await withResetLink();
      const pending = await registered(api);
      const pendingBefore = await userItem(api, pending.username);
      const unknown = newRegistration();
      const others = async () =>
        (await allItems(api, 'users')).filter(
          (item) => item.username !== active.username && item.username !== pending.username,
        );
      const othersBefore = await others();
      const emailsBefore = await allItems(api, 'userEmails');

      const answers = [
        await requestReset({ email: ` ${active.email.toUpperCase()} ` }),
        await requestReset({ username: pending.username }),
        await requestReset({ email: unknown.email }),
        await requestReset({ username: unknown.username }),
      ];

      expect(answers.map((answer) => answer.status)).toEqual([202, 202, 202, 202]);
      const activeAfter = await userItem(api, active.username);
      expect(activeAfter).toMatchObject({
        activationStatus: 'DONE',
        mailRequestKind: 'PASSWORD_RESET',
        mailRequestId: expect.stringMatching(MAIL_REQUEST_ID_PATTERN),
      });
      expect(activeAfter?.passwordResetTokenHash).toBeUndefined();
      expectApiError(
        await resetJson({ username: active.username, token: active.token, password: NEW_PASSWORD }),
        400,
        'PASSWORD_RESET_LINK_INVALID',
      );
      const pendingAfter = await userItem(api, pending.username);
      expect(pendingAfter).toEqual({
        ...pendingBefore,
        mailRequestKind: 'PASSWORD_RESET',
        mailRequestId: expect.stringMatching(MAIL_REQUEST_ID_PATTERN),
      });
      expect(pendingAfter?.mailRequestId).not.toBe(pendingBefore?.mailRequestId);
      expect(await others()).toEqual(othersBefore);
      expect(await allItems(api, 'userEmails')).toEqual(emailsBefore);
    });

    describe('validation (JSON)', () => {
      it.each([
        ['no field', {}, [{ field: 'email', messages: ['email (or username) is required'] }]],
        [
          'a null address',
          { email: null },
          [{ field: 'email', messages: ['email (or username) is required'] }],
        ],
        [
          'a number for the address',
          { email: 42 },
          [{ field: 'email', messages: ['email must be a string'] }],
        ],
        [
          'a list for the address',
          { email: ['a@example.org'] },
          [{ field: 'email', messages: ['email must be a string'] }],
        ],
        [
          'an object for the username',
          { username: { $ne: null } },
          [{ field: 'username', messages: ['username must be a string'] }],
        ],
        [
          'an address that is none',
          { email: 'not an address' },
          [{ field: 'email', messages: ['email must be a valid email address'] }],
        ],
        [
          'a username that breaks the rules',
          { username: 'a' },
          [{ field: 'username', messages: ['username must be 3 to 32 characters long'] }],
        ],
        [
          'both, with an address that is none (the address counts)',
          { email: 'nope', username: 'ada-lovelace' },
          [{ field: 'email', messages: ['email must be a valid email address'] }],
        ],
        [
          'an unknown field',
          { email: 'a@example.org', admin: true },
          [{ field: 'admin', messages: ['property admin should not exist'] }],
        ],
      ])('refuses %s with 400 VALIDATION_FAILED, naming the field', async (_case, body, errors) => {
        const response = await requestReset(body);

        expectFieldErrors(
          response,
          errors.map((error) => error.field),
        );
        expect(response.body.errors).toEqual(errors);
        expect(response.headers['referrer-policy']).toBe('no-referrer');
      });

      it('answers a POST with no body with JSON, not the page', async () => {
        const response = await request(api.http).post('/password-reset');

        expectFieldErrors(response, ['email']);
      });

      it('with both given and valid, uses the address only', async () => {
        const [byAddress, byUsername] = [await activatedUser(api), await activatedUser(api)];
        const before = await userItem(api, byUsername.username);

        const response = await requestReset({
          email: byAddress.email,
          username: byUsername.username,
        });

        expect(response.status).toBe(202);
        expect(await userItem(api, byAddress.username)).toMatchObject({
          mailRequestKind: 'PASSWORD_RESET',
        });
        expect(await userItem(api, byUsername.username)).toEqual(before);
      });

      it('writes nothing for a refused request, even with a real account in it', async () => {
        const user = await activatedUser(api);
        const before = await userItem(api, user.username);

        expectFieldErrors(await requestReset({ email: user.email, admin: true }), ['admin']);
        expectFieldErrors(await requestReset({ email: [user.email] }), ['email']);
        expectFieldErrors(await requestReset({ username: user.username, admin: 1 }), ['admin']);

        expect(await userItem(api, user.username)).toEqual(before);
      });
    });

    describe('media types and sizes', () => {
      it.each([
        ['text/plain', 'email=a@example.org'],
        ['application/xml', '<email>a@example.org</email>'],
        [
          'multipart/form-data; boundary=x',
          '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\na@example.org\r\n--x--\r\n',
        ],
      ])('refuses a %s body with the API 415', async (type, body) => {
        const response = await request(api.http)
          .post('/password-reset')
          .set('Content-Type', type)
          .send(body);

        expectApiError(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
        expect(response.body.message).toBe(
          'Send the body as application/x-www-form-urlencoded or application/json.',
        );
      });

      it('refuses a JSON body over 16 kB with 413 PAYLOAD_TOO_LARGE', async () => {
        const response = await requestReset({ email: 'a@example.org', pad: 'x'.repeat(17 * 1024) });

        expectApiError(response, 413, 'PAYLOAD_TOO_LARGE');
      });

      it('refuses a form over 4 kB with 413 when the client asks for JSON, and shows a browser the form again (400)', async () => {
        const body = `email=a%40example.org&pad=${'x'.repeat(4200)}`;

        const json = await requestResetForm(body).set('Accept', 'application/json');
        const page = await requestResetForm(body);

        expectApiError(json, 413, 'PAYLOAD_TOO_LARGE');
        expectPage(page, 400, REQUEST_FORM);
        expectProblems(page.text, 'reset', { email: UNREADABLE_FORM });
        expect(formsOf(page.text)).toEqual([REQUEST_FORM_TAG]);
      });

      it('answers malformed JSON with 400 MALFORMED_JSON', async () => {
        const response = await request(api.http)
          .post('/password-reset')
          .type('application/json')
          .send('{"email":');

        expectApiError(response, 400, 'MALFORMED_JSON');
      });
    });

    describe('the form (a browser)', () => {
      it('answers with the "Check your inbox" page (202), the same bytes and headers for every account', async () => {
        const active = await activatedUser(api);
        const pending = await registered(api);

        const pages = [
          await requestResetForm(`email=${encodeURIComponent(active.email)}`),
          await requestResetForm(`username=${encodeURIComponent(active.username)}`),
          await requestResetForm(`email=${encodeURIComponent(pending.email)}`),
          await requestResetForm(`email=${encodeURIComponent(newRegistration().email)}`),
          await requestResetForm(`username=${newRegistration().username}`),
        ];

        for (const page of pages) expectPage(page, 202, CHECK_INBOX);
        expect(new Set(pages.map((page) => page.text)).size).toBe(1);
        const headers = pages.map(stableHeaders);
        for (const each of headers) expect(each).toEqual(headers[0]);
        expect(await userItem(api, active.username)).toMatchObject({
          mailRequestKind: 'PASSWORD_RESET',
        });
      });

      it('answers a form with JSON when the client asks for it', async () => {
        const response = await requestResetForm(
          `email=${encodeURIComponent(newRegistration().email)}`,
        ).set('Accept', 'application/json');

        expect([response.status, response.body]).toEqual([202, PASSWORD_RESET_REQUESTED]);
      });

      it.each([
        [
          'an address that is none',
          'email=%3Cscript%3Ealert(1)%3C%2Fscript%3E',
          INVALID_ADDRESS_PROBLEM,
        ],
        ['an empty address', 'email=', INVALID_ADDRESS_PROBLEM],
        ['no field', '', INVALID_ADDRESS_PROBLEM],
        [
          'a repeated field',
          'email=a%40example.org&email=b%40example.org',
          INVALID_ADDRESS_PROBLEM,
        ],
        ['an unknown field', 'email=a%40example.org&admin=1', INVALID_ADDRESS_PROBLEM],
        // Not the address's fault: the form as a whole could not be read.
        ['too many fields', `email=a%40example.org${'&a=1'.repeat(10)}`, UNREADABLE_FORM],
        ['an unsupported charset', null, UNREADABLE_FORM],
      ])(
        'shows the request form again (400) with the problem, for %s',
        async (_case, body, problem) => {
          const page =
            body === null
              ? await request(api.http)
                  .post('/password-reset')
                  .set('Content-Type', 'application/x-www-form-urlencoded; charset=koi8-r')
                  .send('email=a%40example.org')
              : await requestResetForm(body);

          expectPage(page, 400, REQUEST_FORM);
          expectProblems(page.text, 'reset', { email: problem });
          expect(formsOf(page.text)).toEqual([REQUEST_FORM_TAG]);
          // Nothing of what was sent comes back, so nothing hostile either.
          expect(inputOf(page.text, 'reset-email')).not.toContain('value=');
          expect(page.text).not.toContain('<script>');
          expect(page.text).not.toContain('alert(1)');
        },
      );

      it('writes nothing for a form that fails validation', async () => {
        const user = await activatedUser(api);
        const before = await userItem(api, user.username);

        const page = await requestResetForm(`email=${encodeURIComponent(user.email)}&admin=1`);

        expect(page.status).toBe(400);
        expect(await userItem(api, user.username)).toEqual(before);
      });
    });

    it('GET /password-reset shows the request form, posting to itself', async () => {
      const page = await request(api.http).get('/password-reset');

      expectPage(page, 200, REQUEST_FORM);
      expect(formsOf(page.text)).toEqual([REQUEST_FORM_TAG]);
      expect(new URL('./password-reset', 'http://cards.test/password-reset').pathname).toBe(
        '/password-reset',
      );
      expect(page.text).toContain('<label for="reset-email">Your e-mail address</label>');
      expect(inputOf(page.text, 'reset-email')).toBe(
        '<input id="reset-email" name="email" type="email" autocomplete="email" maxlength="320" required>',
      );
      expectNoProblem(page.text);
    });
  });

  describe('GET /password-reset/new (the link in the mail)', () => {
    it('shows the form for the new password, twice, posting the username and token back', async () => {
      const user = await withResetLink();

      const page = await request(api.http).get(linkPath(user.username, user.token));

      expectPage(page, 200, NEW_PASSWORD_FORM);
      expect(formsOf(page.text)).toEqual([NEW_PASSWORD_FORM_TAG]);
      expect(
        new URL('../password-reset/new', `http://cards.test${linkPath(user.username, user.token)}`)
          .pathname,
      ).toBe('/password-reset/new');
      expect(hiddenFieldsOf(page.text)).toEqual({ username: user.username, token: user.token });
      expect(page.text).toContain('<label for="new-password-password">New password</label>');
      expect(inputOf(page.text, 'new-password-password')).toBe(
        '<input id="new-password-password" name="password" type="password" autocomplete="new-password" minlength="8" maxlength="128" required>',
      );
      expect(page.text).toContain(
        '<label for="new-password-passwordConfirmation">The new password again</label>',
      );
      expect(inputOf(page.text, 'new-password-passwordConfirmation')).toBe(
        '<input id="new-password-passwordConfirmation" name="passwordConfirmation" type="password" autocomplete="new-password" minlength="8" maxlength="128" required>',
      );
      expect(page.text.match(/<input [^>]*type="password"/g)).toHaveLength(2);
      expect(page.text).toContain(`<strong>${user.username}</strong>`);
      expectNoProblem(page.text);
    });

    it('reads and changes nothing, however often it is fetched (mail scanners prefetch links)', async () => {
      const user = await withResetLink();
      const before = await userItem(api, user.username);
      const sessionsBefore = await allItems(api, 'sessions');

      for (let i = 0; i < 3; i += 1) {
        expect((await request(api.http).get(linkPath(user.username, user.token))).status).toBe(200);
      }

      expect(await userItem(api, user.username)).toEqual(before);
      expect(before?.passwordResetTokenHash).toEqual(expect.any(String));
      expect(await allItems(api, 'sessions')).toEqual(sessionsBefore);
      // The link still works afterwards.
      const reset = await resetJson({
        username: user.username,
        token: user.token,
        password: NEW_PASSWORD,
      });
      expect(reset.status).toBe(200);
    });

    it('shows a well-formed link of no account the same form: the GET reads nothing to tell', async () => {
      const page = await request(api.http).get(linkPath('nobody-here', NEVER_ISSUED));

      expectPage(page, 200, NEW_PASSWORD_FORM);
      expect(hiddenFieldsOf(page.text)).toEqual({ username: 'nobody-here', token: NEVER_ISSUED });
    });

    const HOSTILE = '"><script>alert(1)</script>';
    it.each([
      ['no query', '/password-reset/new'],
      ['no token', `/password-reset/new?username=ada-lovelace`],
      ['no username', `/password-reset/new?token=${NEVER_ISSUED}`],
      ['a hostile username', linkPath(HOSTILE, NEVER_ISSUED)],
      ['a hostile token', linkPath('ada-lovelace', `${HOSTILE}${'A'.repeat(20)}`)],
      ['an upper-case username', linkPath('Ada-Lovelace', NEVER_ISSUED)],
      ['a short token', linkPath('ada-lovelace', 'A'.repeat(42))],
      ['a repeated username', `${linkPath('ada-lovelace', NEVER_ISSUED)}&username=grace`],
      ['a nested username', `/password-reset/new?username[a]=b&token=${NEVER_ISSUED}`],
    ])('answers %s with the invalid-link page (400) and the request form', async (_case, path) => {
      const page = await request(api.http).get(path);

      expectPage(page, 400, INVALID_LINK);
      expect(formsOf(page.text)).toEqual([INVALID_LINK_FORM_TAG]);
      expectNoProblem(page.text);
      expect(new URL('../password-reset', `http://cards.test${path}`).pathname).toBe(
        '/password-reset',
      );
      expect(page.text).not.toContain('<script>');
      expect(page.text).not.toContain('alert(1)');
      expect(page.text).not.toMatch(/type="hidden"/);
    });

    it('gives every malformed link the same bytes', async () => {
      const pages = [
        await request(api.http).get('/password-reset/new'),
        await request(api.http).get(linkPath('"><b>x</b>', NEVER_ISSUED)),
        await request(api.http).get(linkPath('ada-lovelace', 'short')),
      ];

      expect(new Set(pages.map((page) => page.text)).size).toBe(1);
    });
  });

  describe('POST /password-reset/new', () => {
    it('sets the password with a live link (JSON): the new one signs in, the old one does not, nobody is signed in', async () => {
      const user = await withResetLink();
      const session = setCookie(await login(user.username, user.password), SESSION_COOKIE)!.value;
      const before = await userItem(api, user.username);

      const response = await resetJson({
        username: user.username,
        token: user.token,
        password: NEW_PASSWORD,
      });

      expect([response.status, response.body]).toEqual([
        200,
        { username: user.username, passwordChanged: true },
      ]);
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(response.headers).toMatchObject({
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
      });
      expect(response.headers['set-cookie']).toBeUndefined();
      expectApiError(await login(user.username, user.password), 401, 'INVALID_CREDENTIALS');
      expect((await login(user.username, NEW_PASSWORD)).status).toBe(200);
      // Every session of the account ended.
      expectApiError(await me(session), 401, 'NOT_SIGNED_IN');
      const after = await userItem(api, user.username);
      expect(after?.passwordHash).not.toBe(before?.passwordHash);
      expect(after?.passwordResetTokenHash).toBeUndefined();
      expect(after?.passwordResetTokenExpiresAt).toBeUndefined();
      expect(after).toMatchObject({
        activationStatus: 'DONE',
        mailRequestKind: 'PASSWORD_CHANGED',
        passwordChangedAt: expect.any(String),
      });
    });

    it('sets the password from the page’s form and answers with the page that sends to sign in', async () => {
      const user = await withResetLink();

      const page = await resetForm(
        formBody({
          username: user.username,
          token: user.token,
          password: NEW_PASSWORD,
          passwordConfirmation: NEW_PASSWORD,
        }),
      );

      expectPage(page, 200, PASSWORD_CHANGED);
      expect(page.text).toContain(`<strong>${user.username}</strong>`);
      expect(page.text).toContain('<a href="../">Sign in</a>');
      expect(new URL('../', 'http://cards.test/password-reset/new').pathname).toBe('/');
      expect(formsOf(page.text)).toEqual([]);
      expect((await login(user.username, NEW_PASSWORD)).status).toBe(200);
    });

    it('answers a used, a wrong, an expired, a replaced link and an unknown user with one 400 PASSWORD_RESET_LINK_INVALID, changing nothing', async () => {
      const used = await withResetLink();
      expect(
        (await resetJson({ username: used.username, token: used.token, password: NEW_PASSWORD }))
          .status,
      ).toBe(200);
      const wrong = await withResetLink();
      const replaced = await withResetLink();
      await plantResetToken(api, replaced.username);
      const expired = await activatedUser(api);
      const { token: expiredToken } = await plantResetToken(
        api,
        expired.username,
        new Date(Date.now() - api.config.activation.passwordResetTokenTtlSeconds * 1000 - 1000),
      );
      const before = await Promise.all(
        [used, wrong, replaced, expired].map((user) => userItem(api, user.username)),
      );
      const attempt = (username: string, token: string) => ({
        username,
        token,
        password: 'yet another passphrase',
      });

      const responses = [
        await resetJson(attempt(used.username, used.token)),
        await resetJson(attempt(wrong.username, NEVER_ISSUED)),
        await resetJson(attempt(wrong.username, used.token)),
        await resetJson(attempt(replaced.username, replaced.token)),
        await resetJson(attempt(expired.username, expiredToken)),
        await resetJson(attempt(newRegistration().username, wrong.token)),
        await resetJson(attempt(wrong.username, 'short')),
        await resetJson(attempt(wrong.username.toUpperCase(), wrong.token)),
        await resetForm(formBody(attempt(wrong.username, NEVER_ISSUED))).set(
          'Accept',
          'application/json',
        ),
      ];

      for (const response of responses) {
        expectApiError(response, 400, 'PASSWORD_RESET_LINK_INVALID');
        expect(response.headers['set-cookie']).toBeUndefined();
      }
      const bodies = responses.map(({ body }) => JSON.stringify({ ...body, requestId: 0 }));
      expect(new Set(bodies).size).toBe(1);
      expect(
        await Promise.all(
          [used, wrong, replaced, expired].map((user) => userItem(api, user.username)),
        ),
      ).toEqual(before);
      expect((await login(used.username, NEW_PASSWORD)).status).toBe(200);
      expect((await login(wrong.username, wrong.password)).status).toBe(200);
    });

    it('answers every dead link of a browser with the same invalid-link page', async () => {
      const user = await withResetLink();
      const form = (username: string, token: string) =>
        resetForm(
          formBody({
            username,
            token,
            password: NEW_PASSWORD,
            passwordConfirmation: NEW_PASSWORD,
          }),
        );

      const pages = [
        await form(user.username, NEVER_ISSUED),
        await form('nobody-here', user.token),
        await form(user.username, 'short'),
        await form('"><script>alert(1)</script>', user.token),
        // Only the new password wrong, but on a link that is none of ours: not the form again.
        await resetForm(
          formBody({
            username: '"><script>alert(1)</script>',
            token: user.token,
            password: NEW_PASSWORD,
            passwordConfirmation: 'a different passphrase',
          }),
        ),
      ];

      for (const page of pages) {
        expectPage(page, 400, INVALID_LINK);
        expect(formsOf(page.text)).toEqual([INVALID_LINK_FORM_TAG]);
        expectNoProblem(page.text);
      }
      expect(new Set(pages.map((page) => page.text)).size).toBe(1);
      for (const page of pages.slice(3)) expect(page.text).not.toContain('<script>');
      expect(await userItem(api, user.username)).toMatchObject({
        passwordResetTokenHash: expect.any(String),
      });
    });

    it('ends the link at its TTL by the app’s clock: refused at its expiry, working just before', async () => {
      const user = await activatedUser(api);
      const { token, expiresAt } = await plantResetToken(api, user.username);
      expect(expiresAt.getTime() - Date.now()).toBeGreaterThan(
        (api.config.activation.passwordResetTokenTtlSeconds - 60) * 1000,
      );
      const clock = api.app.get(Clock, { strict: false });
      const attempt = { username: user.username, token, password: NEW_PASSWORD };

      const now = jest.spyOn(clock, 'now').mockImplementation(() => new Date(expiresAt));
      let atExpiry: Response;
      try {
        atExpiry = await resetJson(attempt);
      } finally {
        now.mockRestore();
      }
      const before = await userItem(api, user.username);
      const justBefore = jest
        .spyOn(clock, 'now')
        .mockImplementation(() => new Date(expiresAt.getTime() - 1));
      let inTime: Response;
      try {
        inTime = await resetJson(attempt);
      } finally {
        justBefore.mockRestore();
      }

      expectApiError(atExpiry, 400, 'PASSWORD_RESET_LINK_INVALID');
      expect(before?.passwordResetTokenHash).toEqual(expect.any(String));
      expect(inTime.status).toBe(200);
    });

    it('refuses two passwords that differ (JSON) with 400 on passwordConfirmation, keeping the link', async () => {
      const user = await withResetLink();
      const before = await userItem(api, user.username);

      const response = await resetJson({
        username: user.username,
        token: user.token,
        password: NEW_PASSWORD,
        passwordConfirmation: `${NEW_PASSWORD}!`,
      });

      expectFieldErrors(response, ['passwordConfirmation']);
      expect(response.body.errors).toEqual([
        { field: 'passwordConfirmation', messages: ['passwordConfirmation must equal password'] },
      ]);
      expect(await userItem(api, user.username)).toEqual(before);
    });

    it('reports a new password that breaks the rules and a confirmation that differs at once, JSON and page', async () => {
      const user = await withResetLink();
      const before = await userItem(api, user.username);
      const fields = { username: user.username, token: user.token, password: 'short' };

      const json = await resetJson({ ...fields, passwordConfirmation: 'shorter' });
      const page = await resetForm(formBody({ ...fields, passwordConfirmation: 'shorter' }));

      expectFieldErrors(json, ['password', 'passwordConfirmation']);
      expect(json.body.errors).toEqual([
        { field: 'password', messages: ['password must be 8 to 128 characters long'] },
        { field: 'passwordConfirmation', messages: ['passwordConfirmation must equal password'] },
      ]);
      expectPage(page, 400, NEW_PASSWORD_FORM);
      expectProblems(page.text, 'new-password', {
        password: 'New password must be 8 to 128 characters long',
        passwordConfirmation: PASSWORDS_DIFFER_PROBLEM,
      });
      expect(hiddenFieldsOf(page.text)).toEqual({ username: user.username, token: user.token });
      expect(page.text).not.toContain('shorter');
      expect(await userItem(api, user.username)).toEqual(before);
    });

    it('shows the form again (400) with the problem for two passwords that differ, and the link still works', async () => {
      const user = await withResetLink();
      const before = await userItem(api, user.username);

      const page = await resetForm(
        formBody({
          username: user.username,
          token: user.token,
          password: NEW_PASSWORD,
          passwordConfirmation: 'a different passphrase',
        }),
      );

      expectPage(page, 400, NEW_PASSWORD_FORM);
      expectProblems(page.text, 'new-password', {
        passwordConfirmation: PASSWORDS_DIFFER_PROBLEM,
      });
      expect(formsOf(page.text)).toEqual([NEW_PASSWORD_FORM_TAG]);
      expect(hiddenFieldsOf(page.text)).toEqual({ username: user.username, token: user.token });
      // Passwords never come back.
      expect(page.text).not.toContain(NEW_PASSWORD);
      expect(page.text).not.toContain('a different passphrase');
      expect(await userItem(api, user.username)).toEqual(before);
      const again = await resetForm(
        formBody({
          username: user.username,
          token: user.token,
          password: NEW_PASSWORD,
          passwordConfirmation: NEW_PASSWORD,
        }),
      );
      expectPage(again, 200, PASSWORD_CHANGED);
    });

    it.each([
      ['too short', 'short'],
      ['too long', 'p'.repeat(129)],
    ])(
      'refuses a new password that is %s: field-level 400 (JSON), the form again (page)',
      async (_case, password) => {
        const user = await withResetLink();
        const before = await userItem(api, user.username);

        const json = await resetJson({ username: user.username, token: user.token, password });
        const page = await resetForm(
          formBody({
            username: user.username,
            token: user.token,
            password,
            passwordConfirmation: password,
          }),
        );

        expectFieldErrors(json, ['password']);
        expect(json.body.errors).toEqual([
          { field: 'password', messages: ['password must be 8 to 128 characters long'] },
        ]);
        expectPage(page, 400, NEW_PASSWORD_FORM);
        // The API's message, with the field's label for its JSON name.
        expectProblems(page.text, 'new-password', {
          password: 'New password must be 8 to 128 characters long',
        });
        expect(formsOf(page.text)).toEqual([NEW_PASSWORD_FORM_TAG]);
        expect(hiddenFieldsOf(page.text)).toEqual({ username: user.username, token: user.token });
        expect(page.text).not.toMatch(/type="password"[^>]*value=/);
        expect(await userItem(api, user.username)).toEqual(before);
      },
    );

    it.each([
      [
        'an empty object',
        {},
        [
          { field: 'username', messages: ['username is required'] },
          { field: 'token', messages: ['token is required'] },
          { field: 'password', messages: ['password is required'] },
        ],
      ],
      [
        'non-strings',
        { username: 42, token: ['x'], password: 7, passwordConfirmation: false },
        [
          { field: 'username', messages: ['username must be a string'] },
          { field: 'token', messages: ['token must be a string'] },
          { field: 'password', messages: ['password must be a string'] },
          { field: 'passwordConfirmation', messages: ['passwordConfirmation must be a string'] },
        ],
      ],
      [
        'oversized values',
        { username: 'a'.repeat(65), token: 'A'.repeat(129), password: NEW_PASSWORD },
        [
          { field: 'username', messages: ['username must be at most 64 characters long'] },
          { field: 'token', messages: ['token must be at most 128 characters long'] },
        ],
      ],
      [
        'a new password with a lone surrogate',
        { username: 'ada-lovelace', token: NEVER_ISSUED, password: 'abcdefgh\ud800' },
        [{ field: 'password', messages: ['password must be valid Unicode text'] }],
      ],
      [
        'an unknown field',
        { username: 'ada-lovelace', token: NEVER_ISSUED, password: NEW_PASSWORD, admin: true },
        [{ field: 'admin', messages: ['property admin should not exist'] }],
      ],
    ])('refuses %s with 400 and field messages', async (_case, body, errors) => {
      const response = await resetJson(body);

      expectFieldErrors(
        response,
        errors.map((error) => error.field),
      );
      expect(response.body.errors).toEqual(errors);
    });

    it('answers a form that is not the page’s with the invalid-link page, not the form', async () => {
      const user = await withResetLink();
      const valid = {
        username: user.username,
        token: user.token,
        password: NEW_PASSWORD,
        passwordConfirmation: NEW_PASSWORD,
      };

      const pages = [
        await resetForm(`${formBody(valid)}&admin=1`),
        // Names every object has: still fields the form does not have.
        await resetForm(`${formBody(valid)}&constructor=1`),
        await resetForm(`${formBody(valid)}&toString=1`),
        await resetForm(`${formBody(valid)}&token=${NEVER_ISSUED}`),
        await resetForm(`${formBody(valid)}&pad=${'x'.repeat(4200)}`),
      ];

      for (const page of pages) expectPage(page, 400, INVALID_LINK);
      expect(await userItem(api, user.username)).toMatchObject({
        passwordResetTokenHash: expect.any(String),
      });
    });

    it('refuses a text/plain body with the API 415', async () => {
      const response = await request(api.http)
        .post('/password-reset/new')
        .set('Content-Type', 'text/plain')
        .send('username=a&token=b&password=c');

      expectApiError(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });
  });
});

describe('password reset: the limits', () => {
  /** Small limits, unscaled; everything else out of the way. */
  const LIMITS = {
    RATE_LIMIT_SCALE: '1',
    RATE_LIMIT_REGISTER_PER_ADDRESS: '1000/1h',
    RATE_LIMIT_LOGIN_PER_ADDRESS: '1000/15m',
    RATE_LIMIT_LOGIN_PER_ACCOUNT_AND_ADDRESS: '1000/15m',
    RATE_LIMIT_MAIL_COOLDOWN: '1/1m',
    RATE_LIMIT_MAIL_PER_DAY: '5/1d',
    RATE_LIMIT_MAIL_PER_ADDRESS: '1000/1h',
    RATE_LIMIT_PASSWORD_RESET_PER_ADDRESS: '4/15m',
    RATE_LIMIT_PASSWORD_RESET_PER_ACCOUNT: '2/1h',
  };

  let api: TestApp;

  beforeAll(async () => {
    api = await createTestApp({ env: LIMITS });
  });
  afterAll(() => api.close());

  interface Answer {
    readonly status: number;
    readonly headers: Record<string, string | string[] | undefined>;
    readonly body: Record<string, unknown>;
    readonly text: string;
  }

  /** POSTs from `from`, a loopback address of its own, so each test has its own client budget. */
  async function post(
    path: string,
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
          path,
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

  /** What a client can see of an answer, without the values that differ per request. */
  const shapeOf = (answer: Answer) => ({
    status: answer.status,
    body: { ...answer.body, requestId: typeof answer.body.requestId },
    retryAfter: answer.headers['retry-after'] === undefined ? undefined : 'set',
    policy: answer.headers['ratelimit-policy'],
  });

  describe('POST /password-reset: the mail budget', () => {
    it('declares the three limits of the mail budget', async () => {
      const answer = await post(
        '/password-reset',
        { email: newRegistration().email },
        { from: '127.0.0.81' },
      );

      expect(answer.status).toBe(202);
      expect(String(answer.headers['ratelimit-policy']).split(', ').sort()).toEqual([
        '"mail-address";q=1000;w=3600',
        '"mail-cooldown";q=1;w=60',
        '"mail-daily";q=5;w=86400',
      ]);
    });

    it('refuses a second request for one account within the cooldown with 429, and writes nothing', async () => {
      const user = await activatedUser(api);
      const first = await post('/password-reset', { email: user.email }, { from: '127.0.0.82' });
      const requested = await userItem(api, user.username);

      // Another spelling of the same mailbox, from another client address: the same budget.
      const again = await post(
        '/password-reset',
        { email: ` ${user.email.toUpperCase()}` },
        { from: '127.0.0.83' },
      );

      expect(first.status).toBe(202);
      expect(requested).toMatchObject({ mailRequestKind: 'PASSWORD_RESET' });
      expectRateLimited(again, 'mail-cooldown');
      expect(await userItem(api, user.username)).toEqual(requested);
    });

    it('refuses an unknown address just the same, so a 429 reveals nothing', async () => {
      const active = await activatedUser(api);
      const run = async (body: object, from: string) =>
        [
          await post('/password-reset', body, { from }),
          await post('/password-reset', body, { from }),
        ].map(shapeOf);

      const runs = [
        await run({ email: active.email }, '127.0.0.84'),
        await run({ email: newRegistration().email }, '127.0.0.85'),
        await run({ username: newRegistration().username }, '127.0.0.86'),
      ];

      expect(runs[0]!.map((answer) => answer.status)).toEqual([202, 429]);
      for (const each of runs) expect(each).toEqual(runs[0]);
    });

    it('shares the budget with the activation mail: a resend, then a reset of the same address, is 429', async () => {
      const user = await activatedUser(api);
      const resend = await post('/activation-mail', { email: user.email }, { from: '127.0.0.87' });
      const requested = await userItem(api, user.username);

      const reset = await post('/password-reset', { email: user.email }, { from: '127.0.0.87' });

      expect(resend.status).toBe(202);
      expectRateLimited(reset, 'mail-cooldown');
      expect(await userItem(api, user.username)).toEqual(requested);
      expect(requested).toMatchObject({ mailRequestKind: 'ALREADY_ACTIVE' });
    });

    it('answers a form over the limit with the "Too many attempts" page', async () => {
      const email = encodeURIComponent(newRegistration().email);
      const first = await post('/password-reset', undefined, {
        from: '127.0.0.88',
        form: `email=${email}`,
      });

      const page = await post('/password-reset', undefined, {
        from: '127.0.0.88',
        form: `email=${email}`,
      });

      expect(first.status).toBe(202);
      expect(headingOf(first.text)).toBe(CHECK_INBOX);
      expect(page.status).toBe(429);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.headers['content-security-policy']).toBe(PAGE_CONTENT_SECURITY_POLICY);
      expect(headingOf(page.text)).toBe(TOO_MANY);
      expect(Number(page.headers['retry-after'])).toBeGreaterThan(0);
    });
  });

  describe('POST /password-reset/new', () => {
    it('declares both limits', async () => {
      const answer = await post(
        '/password-reset/new',
        { username: newRegistration().username, token: NEVER_ISSUED, password: NEW_PASSWORD },
        { from: '127.0.0.91' },
      );

      expect(answer.status).toBe(400);
      expect(String(answer.headers['ratelimit-policy']).split(', ').sort()).toEqual([
        '"password-reset-account";q=2;w=3600',
        '"password-reset-address";q=4;w=900',
      ]);
    });

    it('locks an account after its budget of attempts, from any address: even the live link is 429, nothing written', async () => {
      const user = await activatedUser(api);
      const { token } = await plantResetToken(api, user.username);
      const attempt = (tokenValue: string) => ({
        username: user.username,
        token: tokenValue,
        password: NEW_PASSWORD,
      });
      const wrong = [
        await post('/password-reset/new', attempt(NEVER_ISSUED), { from: '127.0.0.92' }),
        await post('/password-reset/new', attempt(NEVER_ISSUED), { from: '127.0.0.93' }),
      ];
      const before = await userItem(api, user.username);

      const live = await post('/password-reset/new', attempt(token), { from: '127.0.0.94' });
      // Another spelling of the username is the same account.
      const spelled = await post(
        '/password-reset/new',
        { ...attempt(token), username: ` ${user.username.toUpperCase()}` },
        { from: '127.0.0.95' },
      );

      expect(wrong.map((answer) => answer.body.code)).toEqual([
        'PASSWORD_RESET_LINK_INVALID',
        'PASSWORD_RESET_LINK_INVALID',
      ]);
      expectRateLimited(live, 'password-reset-account');
      expectRateLimited(spelled, 'password-reset-account');
      expect(Number(live.headers['retry-after'])).toBeGreaterThan(3500);
      expect(await userItem(api, user.username)).toEqual(before);
      expect(before?.passwordResetTokenHash).toEqual(expect.any(String));
      const login = await request(api.http)
        .post('/login')
        .send({ username: user.username, password: user.password });
      expect(login.status).toBe(200);
    });

    it('limits one client address trying many accounts', async () => {
      const from = '127.0.0.96';
      const statuses: number[] = [];
      for (let i = 0; i < 4; i += 1) {
        const answer = await post(
          '/password-reset/new',
          { username: newRegistration().username, token: NEVER_ISSUED, password: NEW_PASSWORD },
          { from },
        );
        statuses.push(answer.status);
      }

      const over = await post(
        '/password-reset/new',
        { username: newRegistration().username, token: NEVER_ISSUED, password: NEW_PASSWORD },
        { from },
      );

      expect(statuses).toEqual([400, 400, 400, 400]);
      expectRateLimited(over, 'password-reset-address');
    });

    it('answers the page’s form over the limit with the "Too many attempts" page', async () => {
      const username = newRegistration().username;
      const form = formBody({
        username,
        token: NEVER_ISSUED,
        password: NEW_PASSWORD,
        passwordConfirmation: NEW_PASSWORD,
      });
      const first = [
        await post('/password-reset/new', undefined, { from: '127.0.0.97', form }),
        await post('/password-reset/new', undefined, { from: '127.0.0.97', form }),
      ];

      const page = await post('/password-reset/new', undefined, { from: '127.0.0.97', form });

      expect(first.map((answer) => [answer.status, headingOf(answer.text)])).toEqual([
        [400, INVALID_LINK],
        [400, INVALID_LINK],
      ]);
      expect(page.status).toBe(429);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(headingOf(page.text)).toBe(TOO_MANY);
    });
  });
});
