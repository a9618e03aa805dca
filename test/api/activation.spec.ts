/**
 * The activation link: GET /activate shows a button and changes nothing; POST /activate
 * (the page's form, or JSON) activates. Unknown users, wrong, replaced and expired tokens
 * all get the same answer; nothing a client sends is a 500. Tokens come from the store's
 * own claim (as the mail step makes them), not from the mail pipeline.
 */
import type { NestExpressApplication } from '@nestjs/platform-express';
import request, { type Response } from 'supertest';
import { WRONG_PASSWORD_PROBLEM } from '../../src/users/activation/activation-pages';
import { freePort as closedPort } from '../support/ports';
import { checkedApp, createTestApp, testConfig, type TestApp } from '../support/test-app';
import {
  claimActivationToken,
  expectApiError,
  expectFieldErrors,
  mailedUser,
  SESSION_COOKIE,
  setCookie,
  userItem,
} from './api-helpers';

const link = (username: string, token: string) =>
  `/activate?username=${encodeURIComponent(username)}&token=${encodeURIComponent(token)}`;

const postForm = (api: TestApp, body: string | Record<string, string>) =>
  request(api.http).post('/activate').type('form').send(body);

const postJson = (api: TestApp, body: unknown) =>
  request(api.http)
    .post('/activate')
    .send(body as object);

const login = (api: TestApp, username: string, password: string) =>
  request(api.http).post('/login').send({ username, password });

const statusOf = async (api: TestApp, username: string) =>
  (await userItem(api, username))?.activationStatus;

/** A token of the right shape that was never issued. */
const NEVER_ISSUED = 'A'.repeat(43);

interface Form {
  method: string;
  action: string;
  fields: Record<string, string>;
  button: string;
}

/** The page's one form, read from its markup. */
function formOf(html: string): Form {
  const form = /<form method="([^"]*)" action="([^"]*)" novalidate>([\s\S]*?)<\/form>/.exec(html);
  if (!form) throw new Error(`no form in ${html}`);
  const fields = Object.fromEntries(
    [...form[3]!.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((m) => [
      m[1]!,
      m[2]!,
    ]),
  );
  const button = /<button type="submit">([^<]*)<\/button>/.exec(form[3]!)?.[1] ?? '';
  return { method: form[1]!, action: form[2]!, fields, button };
}

const headingOf = (html: string) => /<h1>([^<]*)<\/h1>/.exec(html)?.[1];

function expectPage(response: Response, status: number, heading: string): void {
  expect({ status: response.status, heading: headingOf(response.text) }).toEqual({
    status,
    heading,
  });
  expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(response.text).toMatch(/^<!doctype html>\n<html lang="en">[\s\S]*<\/html>\n$/);
}

const INVALID = 'This activation link is not valid or has expired';
const ACTIVE = 'Your account is active';
const ALREADY_ACTIVE = 'Your account is already active';

describe('account activation', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await createTestApp();
  });
  afterAll(() => api.close());

  describe('GET /activate (the link in the mail)', () => {
    it('shows a button that posts the username and token back to /activate', async () => {
      const user = await mailedUser(api);

      const response = await request(api.http).get(link(user.username, user.token));

      expectPage(response, 200, 'Activate your account');
      expect(formOf(response.text)).toEqual({
        method: 'post',
        action: '/activate',
        fields: { username: user.username, token: user.token },
        button: 'Activate my account',
      });
      // The second proof: the account's password, for the browser's password manager too
      // (which reads the account's name from the hidden username field).
      expect(response.text).toContain('<label for="activate-password">Password</label>');
      expect(response.text).toContain(
        '<input id="activate-password" name="password" type="password" autocomplete="current-password" maxlength="1024" required>',
      );
      expect(response.text).toContain(
        `<input type="text" value="${user.username}" autocomplete="username" hidden>`,
      );
      // A fresh page has no problem to show.
      expect(response.text).not.toMatch(/error-summary|field-error|aria-invalid|role="alert"/);
    });

    it('changes nothing, however often it is fetched (mail scanners prefetch links)', async () => {
      const [mailed, claimed] = await Promise.all([
        mailedUser(api),
        mailedUser(api, {}, { markSent: false }),
      ]);
      const before = [await userItem(api, mailed.username), await userItem(api, claimed.username)];

      for (const user of [mailed, claimed, mailed]) {
        expect((await request(api.http).get(link(user.username, user.token))).status).toBe(200);
      }

      expect([await userItem(api, mailed.username), await userItem(api, claimed.username)]).toEqual(
        before,
      );
      expect(before.map((item) => item?.activationStatus)).toEqual(['MAIL_SENT', 'NONE']);
      expectApiError(
        await login(api, mailed.username, mailed.password),
        403,
        'ACCOUNT_NOT_ACTIVATED',
      );
    });

    it('follows the configured path of the activation URL for the form action', async () => {
      const prefixed = await checkedApp(
        testConfig({ PUBLIC_BASE_URL: 'https://cards.test/stage/' }),
      );
      try {
        const response = await request(prefixed.getHttpServer()).get(link('ada', NEVER_ISSUED));

        expect(formOf(response.text).action).toBe('/stage/activate');
      } finally {
        await prefixed.close();
      }
    });

    it('sends the page with no-store, no-referrer, noindex and its own strict CSP', async () => {
      const response = await request(api.http).get(link('ada', NEVER_ISSUED));

      expect(response.headers).toEqual(
        expect.objectContaining({
          'cache-control': 'no-store',
          'referrer-policy': 'no-referrer',
          'x-robots-tag': expect.stringMatching(/\bnoindex\b/),
          'x-content-type-options': 'nosniff',
        }),
      );
      const csp = Object.fromEntries(
        (response.headers['content-security-policy'] as string)
          .split(';')
          .map((directive) => directive.trim().split(/\s+/))
          .map(([name, ...values]) => [name, values]),
      );
      expect(csp).toEqual({
        'default-src': ["'none'"],
        'style-src': ["'self'"],
        'form-action': ["'self'"],
        'frame-ancestors': ["'none'"],
        'base-uri': ["'none'"],
      });
      expect(response.text).not.toMatch(/<script|<style|\sstyle=|\son\w+=|https?:\/\//i);
      // The one style the CSP allows: the site's stylesheet, linked relative to the page.
      const stylesheets = [...response.text.matchAll(/<link rel="stylesheet" href="([^"]*)">/g)];
      expect(stylesheets).toHaveLength(1);
      const stylesheet = new URL(stylesheets[0]![1]!, 'http://cards.test/activate');
      expect(stylesheet.pathname).toBe('/assets/site.css');
      const css = await request(api.http).get(`${stylesheet.pathname}${stylesheet.search}`);
      expect([css.status, css.headers['content-type']]).toEqual([
        200,
        expect.stringMatching(/^text\/css/),
      ]);
    });

    it.each([
      ['no parameters', '/activate'],
      ['no token', '/activate?username=ada'],
      ['no username', `/activate?token=${NEVER_ISSUED}`],
      ['an empty token', '/activate?username=ada&token='],
      ['a token one character short', link('ada', NEVER_ISSUED.slice(1))],
      ['a token with a character outside base64url', link('ada', `${NEVER_ISSUED.slice(1)}=`)],
      ['a username in capitals (links carry the stored name)', link('ADA', NEVER_ISSUED)],
      ['a username that breaks the rules', link('a', NEVER_ISSUED)],
      ['a repeated username', `/activate?username=ada&username=bob&token=${NEVER_ISSUED}`],
      ['a username of markup', link('<script>alert(1)</script>', NEVER_ISSUED)],
      ['a token of markup', link('ada', '"><script>alert(1)</script>')],
      ['a nested parameter', `/activate?username[x]=ada&token=${NEVER_ISSUED}`],
      ['a broken percent-encoding', `/activate?username=%E0%A4%A&token=${NEVER_ISSUED}`],
    ])('answers %s with the invalid-link page (400), echoing nothing', async (_case, path) => {
      const response = await request(api.http).get(path);

      expectPage(response, 400, INVALID);
      expect(response.text).not.toMatch(/script|alert|ada|bob|AAAA|name="token"|name="password"/i);
      // The one form is the resend form, posting next to the page.
      expect(response.text.match(/<form [^>]*>/g)).toEqual([
        '<form method="post" action="./activation-mail" novalidate>',
      ]);
    });

    it('answers every malformed link with the very same page', async () => {
      const responses = await Promise.all(
        ['/activate', link('<b>', 'x'), link('ADA', NEVER_ISSUED)].map((path) =>
          request(api.http).get(path),
        ),
      );

      expect(new Set(responses.map((response) => response.text)).size).toBe(1);
    });
  });

  describe('POST /activate from the page (a form)', () => {
    it('activates: the "active" page, status DONE, and sign-in works', async () => {
      const user = await mailedUser(api);

      const response = await postForm(api, {
        username: user.username,
        token: user.token,
        password: user.password,
      });

      expectPage(response, 200, ACTIVE);
      expect(response.text).toContain(`<strong>${user.username}</strong>`);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers['content-security-policy']).toContain("default-src 'none'");
      expect(await userItem(api, user.username)).toEqual(
        expect.objectContaining({ activationStatus: 'DONE', activatedAt: expect.any(String) }),
      );
      expect((await login(api, user.username, user.password)).status).toBe(200);
    });

    it('signs the person in: the session cookie works for GET /users/me', async () => {
      const user = await mailedUser(api);

      const response = await postForm(api, {
        username: user.username,
        token: user.token,
        password: user.password,
      });
      const cookie = setCookie(response, SESSION_COOKIE);
      const me = await request(api.http)
        .get('/users/me')
        .set('Cookie', `${SESSION_COOKIE}=${cookie?.value ?? ''}`);

      expectPage(response, 200, ACTIVE);
      expect(cookie?.attributes).toEqual(expect.arrayContaining(['HttpOnly']));
      expect([me.status, me.body.username, me.body.activationStatus]).toEqual([
        200,
        user.username,
        'DONE',
      ]);
    });

    it('activates nothing with the live token and a wrong password, and asks again', async () => {
      const user = await mailedUser(api);

      const response = await postForm(api, {
        username: user.username,
        token: user.token,
        password: 'a stranger guessing',
      });

      expect(response.status).toBe(401);
      expect(headingOf(response.text)).toBe('Activate your account');
      expect(response.text).toContain('That is not the password of this account.');
      // Said at the top (focused, linking to the field) and next to the password field.
      expect(response.text).toMatch(
        /<div class="error-summary" role="alert" aria-labelledby="activate-error-summary-title" tabindex="-1" autofocus>/,
      );
      expect(response.text.match(/<li>[\s\S]*?<\/li>/g)).toEqual([
        `<li><a href="#activate-password">${WRONG_PASSWORD_PROBLEM}</a></li>`,
      ]);
      expect(response.text).toContain(
        `<p class="field-error" id="activate-password-error"><span class="error-prefix">Error:</span> ${WRONG_PASSWORD_PROBLEM} </p>`,
      );
      expect(response.text).toContain(
        '<input id="activate-password" name="password" type="password" autocomplete="current-password" aria-describedby="activate-password-error" aria-invalid="true" maxlength="1024" required>',
      );
      // The form again, with the link's values, but never the password that was typed.
      expect(formOf(response.text)).toEqual({
        method: 'post',
        action: '/activate',
        fields: { username: user.username, token: user.token },
        button: 'Activate my account',
      });
      expect(response.text).not.toContain('a stranger guessing');
      expect(response.headers['set-cookie']).toBeUndefined();
      expect(await statusOf(api, user.username)).toBe('MAIL_SENT');
    });

    it('never lets the one who registered a stranger’s address in without the link', async () => {
      // The registrant knows the password, but not the token mailed to the address.
      const squatter = await mailedUser(api);

      const response = await postForm(api, {
        username: squatter.username,
        token: NEVER_ISSUED,
        password: squatter.password,
      });

      expectPage(response, 400, INVALID);
      expect(await statusOf(api, squatter.username)).toBe('MAIL_SENT');
    });

    it('activates a user whose mail is still being sent (status NONE with a live token)', async () => {
      const user = await mailedUser(api, {}, { markSent: false });

      const response = await postForm(api, {
        username: user.username,
        token: user.token,
        password: user.password,
      });

      expectPage(response, 200, ACTIVE);
      expect(await statusOf(api, user.username)).toBe('DONE');
    });

    it('a second post says the account is already active and changes nothing', async () => {
      const user = await mailedUser(api);
      await postForm(api, { username: user.username, token: user.token, password: user.password });
      const afterFirst = await userItem(api, user.username);

      const response = await postForm(api, {
        username: user.username,
        token: user.token,
        password: user.password,
      });

      expectPage(response, 200, ALREADY_ACTIVE);
      expect(await userItem(api, user.username)).toEqual(afterFirst);
    });

    it('two clicks at once activate once: one "active", one "already active"', async () => {
      const user = await mailedUser(api);

      const responses = await Promise.all(
        [1, 2].map(() =>
          postForm(api, { username: user.username, token: user.token, password: user.password }),
        ),
      );

      expect(responses.map((response) => headingOf(response.text)).sort()).toEqual(
        [ACTIVE, ALREADY_ACTIVE].sort(),
      );
    });

    it('answers a wrong token, an unknown user and an expired token with the same page, changing nothing', async () => {
      const [wrong, expired] = await Promise.all([
        mailedUser(api),
        mailedUser(api, {}, { tokenExpiresAt: new Date(Date.now() - 1000) }),
      ]);
      const before = [await userItem(api, wrong.username), await userItem(api, expired.username)];

      const responses = [
        await postForm(api, {
          username: wrong.username,
          token: NEVER_ISSUED,
          password: wrong.password,
        }),
        await postForm(api, {
          username: 'nobody-here',
          token: wrong.token,
          password: wrong.password,
        }),
        await postForm(api, {
          username: expired.username,
          token: expired.token,
          password: expired.password,
        }),
      ];
      const malformedLink = await request(api.http).get('/activate');

      for (const response of responses) expectPage(response, 400, INVALID);
      expect(new Set([...responses, malformedLink].map((response) => response.text)).size).toBe(1);
      expect([await userItem(api, wrong.username), await userItem(api, expired.username)]).toEqual(
        before,
      );
      expectApiError(
        await login(api, expired.username, expired.password),
        403,
        'ACCOUNT_NOT_ACTIVATED',
      );
    });

    it("does not take another user's token", async () => {
      const [alice, bob] = await Promise.all([mailedUser(api), mailedUser(api)]);

      const response = await postForm(api, {
        username: alice.username,
        token: bob.token,
        password: alice.password,
      });

      expectPage(response, 400, INVALID);
      expect([await statusOf(api, alice.username), await statusOf(api, bob.username)]).toEqual([
        'MAIL_SENT',
        'MAIL_SENT',
      ]);
    });

    it('refuses a token replaced by a newer mail, and takes the newer one', async () => {
      const user = await mailedUser(api, {}, { markSent: false });
      const newer = await claimActivationToken(api, user.username);

      const old = await postForm(api, {
        username: user.username,
        token: user.token,
        password: user.password,
      });
      const statusAfterOld = await statusOf(api, user.username);
      const current = await postForm(api, {
        username: user.username,
        token: newer.token,
        password: user.password,
      });

      expectPage(old, 400, INVALID);
      expect(statusAfterOld).toBe('MAIL_SENT');
      expectPage(current, 200, ACTIVE);
    });

    it('does not tell a stranger that an account is already active', async () => {
      const user = await mailedUser(api);
      await postForm(api, { username: user.username, token: user.token, password: user.password });

      const response = await postForm(api, {
        username: user.username,
        token: NEVER_ISSUED,
        password: user.password,
      });

      expectPage(response, 400, INVALID);
    });

    it('never shows what the user typed at registration, such as a name of markup', async () => {
      const user = await mailedUser(api, { name: '<img src=x onerror=alert(1)> & "Ada"' });

      const response = await postForm(api, {
        username: user.username,
        token: user.token,
        password: user.password,
      });

      expectPage(response, 200, ACTIVE);
      expect(response.text).not.toMatch(/<img|onerror|&amp;|Ada/);
    });

    describe('with a form that the page cannot have sent', () => {
      let user: Awaited<ReturnType<typeof mailedUser>>;
      const valid = () =>
        `username=${user.username}&token=${user.token}&password=${encodeURIComponent(user.password)}`;

      beforeAll(async () => {
        user = await mailedUser(api);
      });

      it.each([
        ['an empty body', () => ''],
        ['no token', () => `username=${user.username}`],
        ['no username', () => `token=${user.token}`],
        ['an unknown field besides valid ones', () => `${valid()}&admin=true`],
        ['a repeated username', () => `${valid()}&username=${user.username}`],
        ['a repeated token', () => `${valid()}&token=${user.token}`],
        ['a nested field', () => `username[x]=${user.username}&token=${user.token}`],
        ['a field named after an Object method', () => `${valid()}&toString=1`],
        ['an oversized token', () => `username=${user.username}&token=${'A'.repeat(500)}`],
        ['a body over 4 kB', () => `${valid()}&pad=${'x'.repeat(4200)}`],
        ['too many fields', () => `${valid()}${'&a=1'.repeat(20)}`],
        ['a broken percent-encoding', () => `username=%E0%A4%A&token=${user.token}`],
      ])('answers %s with the invalid-link page (400)', async (_case, body) => {
        const response = await postForm(api, body());

        expectPage(response, 400, INVALID);
        expect(await statusOf(api, user.username)).toBe('MAIL_SENT');
      });

      it('answers an unsupported charset with the invalid-link page too', async () => {
        const response = await request(api.http)
          .post('/activate')
          .set('Content-Type', 'application/x-www-form-urlencoded; charset=koi8-r')
          .send(valid());

        expectPage(response, 400, INVALID);
      });

      it.each([
        ['text/plain', 'username=a&token=b'],
        [
          'multipart/form-data; boundary=x',
          '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--\r\n',
        ],
        ['application/xml', '<activate/>'],
      ])('refuses a %s body with the API 415', async (type, body) => {
        const response = await request(api.http)
          .post('/activate')
          .set('Content-Type', type)
          .send(body);

        expectApiError(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
        expect(response.body.message).toMatch(/x-www-form-urlencoded or application\/json/);
      });
    });
  });

  describe('POST /activate as JSON', () => {
    it('activates and answers with the account, then says it already was', async () => {
      const user = await mailedUser(api);

      const first = await postJson(api, {
        username: user.username,
        token: user.token,
        password: user.password,
      });
      const second = await postJson(api, {
        username: user.username,
        token: user.token,
        password: user.password,
      });

      expect([first.status, first.body]).toEqual([
        200,
        { username: user.username, activationStatus: 'DONE', alreadyActive: false },
      ]);
      expect([second.status, second.body]).toEqual([
        200,
        { username: user.username, activationStatus: 'DONE', alreadyActive: true },
      ]);
      expect(first.headers['content-type']).toMatch(/^application\/json/);
      expect(first.headers['cache-control']).toBe('no-store');
      expect((await login(api, user.username, user.password)).status).toBe(200);
    });

    it('answers the live token with a wrong password with 401 INVALID_CREDENTIALS', async () => {
      const user = await mailedUser(api);

      const response = await postJson(api, {
        username: user.username,
        token: user.token,
        password: 'a stranger guessing',
      });

      expectApiError(response, 401, 'INVALID_CREDENTIALS');
      expect(response.headers['set-cookie']).toBeUndefined();
      expect(await statusOf(api, user.username)).toBe('MAIL_SENT');
    });

    it('answers a form post with JSON when the client asks for it', async () => {
      const user = await mailedUser(api);

      const response = await postForm(api, {
        username: user.username,
        token: user.token,
        password: user.password,
      }).set('Accept', 'application/json, text/html;q=0.9');

      expect([response.status, response.body]).toEqual([
        200,
        { username: user.username, activationStatus: 'DONE', alreadyActive: false },
      ]);
    });

    it('answers a browser-like Accept with a page even when JSON is also accepted', async () => {
      const user = await mailedUser(api);

      const response = await postForm(api, {
        username: user.username,
        token: user.token,
        password: user.password,
      }).set('Accept', 'text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8');

      expectPage(response, 200, ACTIVE);
    });

    it('answers a wrong token, an unknown user and an expired token with one 400 ACTIVATION_LINK_INVALID', async () => {
      const [wrong, expired] = await Promise.all([
        mailedUser(api),
        mailedUser(api, {}, { tokenExpiresAt: new Date(Date.now() - 1000) }),
      ]);

      const responses = [
        await postJson(api, {
          username: wrong.username,
          token: NEVER_ISSUED,
          password: wrong.password,
        }),
        await postJson(api, {
          username: 'nobody-here',
          token: wrong.token,
          password: wrong.password,
        }),
        await postJson(api, {
          username: expired.username,
          token: expired.token,
          password: expired.password,
        }),
        await postJson(api, { username: 'ADA', token: 'short', password: wrong.password }),
        await postForm(api, {
          username: wrong.username,
          token: NEVER_ISSUED,
          password: wrong.password,
        }).set('Accept', 'application/json'),
      ];

      for (const response of responses) expectApiError(response, 400, 'ACTIVATION_LINK_INVALID');
      const withoutIds = responses.map(({ body }) => ({ ...body, requestId: undefined }));
      expect(new Set(withoutIds.map((body) => JSON.stringify(body))).size).toBe(1);
      expect(responses[0]!.headers['cache-control']).toBe('no-store');
      expect([await statusOf(api, wrong.username), await statusOf(api, expired.username)]).toEqual([
        'MAIL_SENT',
        'MAIL_SENT',
      ]);
    });

    it.each([
      ['an empty object', {}, ['username', 'token', 'password']],
      ['no token', { username: 'ada', password: 'p' }, ['token']],
      ['no password', { username: 'ada', token: NEVER_ISSUED }, ['password']],
      [
        'non-strings',
        { username: 42, token: ['x'], password: 7 },
        ['username', 'token', 'password'],
      ],
      ['an injection object', { username: 'ada', token: { $ne: null }, password: 'p' }, ['token']],
      [
        'an unknown field',
        { username: 'ada', token: NEVER_ISSUED, password: 'p', admin: true },
        ['admin'],
      ],
      ['an oversized token', { username: 'ada', token: 'A'.repeat(129), password: 'p' }, ['token']],
      [
        'an oversized username',
        { username: 'a'.repeat(65), token: NEVER_ISSUED, password: 'p' },
        ['username'],
      ],
      [
        'an oversized password',
        { username: 'ada', token: NEVER_ISSUED, password: 'p'.repeat(1025) },
        ['password'],
      ],
    ])('answers %s with 400 and field messages', async (_case, body, fields) => {
      const response = await postJson(api, body);

      expectFieldErrors(response, fields);
    });

    it('reports presence, then type, then size, one message per field', async () => {
      const responses = await Promise.all([
        postJson(api, {}),
        postJson(api, { username: 42, token: { $ne: null }, password: false }),
        postJson(api, {
          username: 'a'.repeat(65),
          token: 'A'.repeat(129),
          password: 'p'.repeat(1025),
        }),
      ]);

      expect(responses.map(({ body }) => body.errors)).toEqual([
        [
          { field: 'username', messages: ['username is required'] },
          { field: 'token', messages: ['token is required'] },
          { field: 'password', messages: ['password is required'] },
        ],
        [
          { field: 'username', messages: ['username must be a string'] },
          { field: 'token', messages: ['token must be a string'] },
          { field: 'password', messages: ['password must be a string'] },
        ],
        [
          { field: 'username', messages: ['username must be at most 64 characters long'] },
          { field: 'token', messages: ['token must be at most 128 characters long'] },
          { field: 'password', messages: ['password must be at most 1024 characters long'] },
        ],
      ]);
    });

    it('answers a bad form with field messages when the client asks for JSON', async () => {
      const response = await postForm(api, 'username=a&username=b').set(
        'Accept',
        'application/json',
      );

      expectFieldErrors(response, ['username', 'token', 'password']);
    });

    it('answers a form over 4 kB with 413 when the client asks for JSON', async () => {
      const response = await postForm(api, `pad=${'x'.repeat(4200)}`).set(
        'Accept',
        'application/json',
      );

      expectApiError(response, 413, 'PAYLOAD_TOO_LARGE');
    });

    it.each([
      ['malformed JSON', '{"username":', 'MALFORMED_JSON'],
      ['null', 'null', undefined],
      ['an array', '[{"username":"ada"}]', undefined],
      [
        'a lone surrogate',
        '{"username":"\\ud800ada","token":"\\udfff","password":"p"}',
        'ACTIVATION_LINK_INVALID',
      ],
      [
        'a deeply nested token',
        `{"username":"ada","token":${'['.repeat(3000)}${']'.repeat(3000)}}`,
        'VALIDATION_FAILED',
      ],
      ['a prototype key', '{"username":"ada","token":"x","__proto__":{"a":1}}', undefined],
    ])('answers %s with a 4xx in the API error shape, never a 500', async (_case, text, code) => {
      const response = await request(api.http)
        .post('/activate')
        .type('application/json')
        .send(text);

      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expectApiError(response, response.status, code ?? response.body.code);
    });
  });

  describe('wiring', () => {
    it('parses forms only in the routes that take one: no app-wide urlencoded parser', () => {
      const express = api.app.getHttpAdapter().getInstance() as unknown as {
        router: { stack: { name: string }[] };
      };

      const names = express.router.stack.map((layer) => layer.name);

      expect(names).toContain('jsonParser');
      expect(names).not.toContain('urlencodedParser');
    });

    it('does not read a form sent to a route that takes none', async () => {
      // Every route with a body takes a form now, so: routes without one. An app-wide
      // parser would refuse this form before any route (a charset it cannot decode, 415).
      const form = 'username=ada&password=whatever1';
      const type = 'application/x-www-form-urlencoded; charset=koi8-r';

      const health = await request(api.http).get('/health').set('Content-Type', type).send(form);
      const nowhere = await request(api.http)
        .post('/users/me')
        .set('Content-Type', type)
        .send(form);

      expect(health.status).toBe(200);
      expectApiError(nowhere, 404, 'NOT_FOUND');
    });
  });

  describe('with DynamoDB unreachable', () => {
    let down: NestExpressApplication;

    beforeAll(async () => {
      down = await checkedApp(
        testConfig({ DYNAMODB_ENDPOINT: `http://127.0.0.1:${await closedPort()}` }),
      );
    });
    afterAll(() => down.close());

    it('shows a browser a "try again" page with 503, not a 500', async () => {
      const response = await request(down.getHttpServer())
        .post('/activate')
        .type('form')
        .send({ username: 'ada', token: NEVER_ISSUED });

      expectPage(response, 503, 'Something went wrong on our side');
      expect(response.text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|Error:/);
    });

    it('answers JSON with 503 DEPENDENCY_UNAVAILABLE', async () => {
      const response = await request(down.getHttpServer())
        .post('/activate')
        .send({ username: 'ada', token: NEVER_ISSUED });

      expectApiError(response, 503, 'DEPENDENCY_UNAVAILABLE');
    });

    it('still shows the button: the GET reads nothing', async () => {
      const response = await request(down.getHttpServer()).get(link('ada', NEVER_ISSUED));

      expectPage(response, 200, 'Activate your account');
    });
  });
});
