/**
 * The start page (`/`), the account page (`/account`), their stylesheet, and the forms
 * they post to the API's own routes: sign-up, sign-in, sign-out, sign-out everywhere and
 * the password change, each answered to a browser with a page or a 303, and to JSON as
 * before (auth.spec.ts, registration.spec.ts, password-change.spec.ts).
 */
import request, { type Response } from 'supertest';
import { normaliseUsername } from '../../src/activation';
import { NOT_ACTIVATED_PROBLEM, WRONG_CREDENTIALS_PROBLEM } from '../../src/users/auth.controller';
import { NOTICES } from '../../src/users/pages/account-pages';
import { PAGE_CONTENT_SECURITY_POLICY, STYLESHEET } from '../../src/users/pages/page';
import { IMMUTABLE } from '../../src/users/pages/site-assets.controller';
import { PASSWORDS_DIFFER_PROBLEM } from '../../src/users/password/password-pages';
import {
  USERNAME_TAKEN_PROBLEM,
  WRONG_CURRENT_PASSWORD_PROBLEM,
} from '../../src/users/users.controller';
import { createTestApp, type TestApp } from '../support/test-app';
import {
  activatedUser,
  newRegistration,
  type Registration,
  registered,
  SESSION_COOKIE,
  setCookie,
  userItem,
} from './api-helpers';

const HOSTILE_NAME = '<script>alert(1)</script> & "Ada"';

/** A browser's form post, as the pages send it. */
const form = (api: TestApp, path: string, body: Record<string, string> = {}, cookie?: string) => {
  const call = request(api.http).post(path).type('form');
  return (cookie ? call.set('Cookie', cookie) : call).send(body);
};

const cookieOf = (response: Response) => {
  const cookie = setCookie(response, SESSION_COOKIE);
  if (!cookie?.value) throw new Error('no session cookie set');
  return `${SESSION_COOKIE}=${cookie.value}`;
};

/** The text of `<main>`, tags dropped: what a person reads. */
const mainText = (response: Response) =>
  /<main[^>]*>([\s\S]*)<\/main>/
    .exec(response.text)![1]!
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ');

function expectPage(response: Response, status: number): void {
  expect(response.status).toBe(status);
  expect(response.type).toBe('text/html');
  expect(response.headers['content-security-policy']).toBe(PAGE_CONTENT_SECURITY_POLICY);
  expect(response.headers['cache-control']).toBe('no-store');
  expect(response.headers['referrer-policy']).toBe('no-referrer');
}

function expectSeeOther(response: Response, location: string): void {
  expect(response.status).toBe(303);
  expect(response.headers.location).toBe(location);
  expect(response.text).toBe('');
}

describe('the pages', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await createTestApp();
  });
  afterAll(() => api.close());

  async function signedIn(user?: Registration): Promise<{ user: Registration; cookie: string }> {
    const account = user ?? (await activatedUser(api));
    const response = await form(api, '/login', {
      username: account.username,
      password: account.password,
    });
    expectSeeOther(response, './account');
    return { user: account, cookie: cookieOf(response) };
  }

  describe('GET /', () => {
    it('shows the sign-in and the sign-up form, posting to /login and /users', async () => {
      const response = await request(api.http).get('/');

      expectPage(response, 200);
      expect(response.text.match(/<form [^>]*>/g)).toEqual([
        '<form method="post" action="./login" novalidate>',
        '<form method="post" action="./users" novalidate>',
      ]);
      expect(response.text).toContain(`<link rel="stylesheet" href="./${STYLESHEET.path}">`);
      for (const id of ['sign-in-username', 'sign-in-password', 'register-email']) {
        expect(response.text).toContain(`<label for="${id}">`);
      }
      expect(response.text).not.toContain('error-summary');
    });

    it.each(Object.entries(NOTICES))('shows the notice %s', async (name, text) => {
      const response = await request(api.http).get('/').query({ notice: name });

      expect(response.text).toContain(`<div class="notice" role="status"><p>`);
      expect(mainText(response)).toContain(text.replace(/\s+/g, ' '));
    });

    it('shows no notice for a value it does not know, and echoes nothing', async () => {
      const response = await request(api.http)
        .get('/')
        .query({ notice: '<script>alert(1)</script>' });

      expectPage(response, 200);
      expect(response.text).not.toMatch(/notice"|script|alert/);
    });
  });

  describe('the stylesheet', () => {
    it('is kept for a year at the URL the pages link, with its hash', async () => {
      const response = await request(api.http).get(`/${STYLESHEET.path}`);

      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe('text/css; charset=utf-8');
      expect(response.headers['cache-control']).toBe(IMMUTABLE);
      expect(response.text).toBe(STYLESHEET.body);
    });

    it('is revalidated at any other URL, and answers 304 to its ETag', async () => {
      const first = await request(api.http).get('/assets/site.css').query({ v: 'old' });
      const again = await request(api.http)
        .get('/assets/site.css')
        .set('If-None-Match', first.headers.etag as string);

      expect(first.headers['cache-control']).toBe('no-cache');
      expect(first.headers.etag).toMatch(/^"[\w-]{43}"$/);
      expect(again.status).toBe(304);
      expect(again.text).toBe('');
    });
  });

  describe('the sign-up form (POST /users)', () => {
    it('registers and shows "check your inbox" with the address (201)', async () => {
      const registration = newRegistration({ name: HOSTILE_NAME });
      const response = await form(api, '/users', { ...registration });

      expectPage(response, 201);
      expect(mainText(response)).toContain(
        `The account ${registration.username} is created. We are sending a mail to ${registration.email}`,
      );
      expect(await userItem(api, registration.username)).toMatchObject({
        activationStatus: 'NONE',
        name: HOSTILE_NAME,
      });
    });

    it('shows every broken rule next to its field and in the summary, keeping all but the password (400)', async () => {
      const response = await form(api, '/users', {
        name: HOSTILE_NAME,
        username: 'No Good!',
        email: 'not-an-address',
        password: 'short',
      });

      expectPage(response, 400);
      expect(response.text).toMatch(
        /<div class="error-summary" role="alert"[^>]* tabindex="-1" autofocus>/,
      );
      const links = [...response.text.matchAll(/<li><a href="#([^"]+)">/g)].map((m) => m[1]);
      expect(links).toEqual(['register-username', 'register-email', 'register-password']);
      for (const field of ['username', 'email', 'password']) {
        expect(response.text).toContain(`<p class="field-error" id="register-${field}-error">`);
      }
      expect(response.text).toContain('Password must be 8 to 128 characters long');
      expect(response.text).toContain(
        'value="&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Ada&quot;"',
      );
      expect(response.text).toContain('value="No Good!"');
      expect(response.text).not.toContain('short');
      expect(response.text).not.toContain('<script>');
    });

    it('says that a taken username is taken, next to the username (409)', async () => {
      const first = await registered(api);
      const response = await form(api, '/users', {
        ...newRegistration(),
        username: first.username,
        password: 'another password entirely',
      });

      expectPage(response, 409);
      expect(response.text).toContain(`<a href="#register-username">${USERNAME_TAKEN_PROBLEM}</a>`);
    });

    it('puts an unknown field on the first field rather than dropping it (400)', async () => {
      const response = await form(api, '/users', { ...newRegistration(), admin: 'true' });

      expectPage(response, 400);
      expect(response.text).toContain(
        '<a href="#register-name">Property admin should not exist</a>',
      );
    });
  });

  it.each(['/users', '/login', '/users/me/password'])(
    'shows the form again for a field named like markup or a pattern (%s), not a 500',
    async (path) => {
      const { cookie } = path === '/users/me/password' ? await signedIn() : { cookie: undefined };
      const response = await request(api.http)
        .post(path)
        .set('Cookie', cookie ?? '')
        .type('form')
        .send('%28=1&%3Cb%3E=2');

      expectPage(response, 400);
      expect(response.text).toContain('Property ( should not exist');
      expect(response.text).toContain('Property &lt;b&gt; should not exist');
    },
  );

  describe('the sign-in form (POST /login)', () => {
    it('signs in and sends on to the account page (303 with the cookie)', async () => {
      const { cookie } = await signedIn();
      const account = await request(api.http).get('/account').set('Cookie', cookie);

      expectPage(account, 200);
    });

    it('says the username or password is wrong, keeping the username (401)', async () => {
      const user = await activatedUser(api);
      const response = await form(api, '/login', { username: user.username, password: 'nope' });

      expectPage(response, 401);
      expect(response.text).toContain(
        `<a href="#sign-in-password">${WRONG_CREDENTIALS_PROBLEM}</a>`,
      );
      expect(response.text).toContain(`value="${user.username}"`);
      expect(response.headers['set-cookie']).toBeUndefined();
    });

    it('says that an account is not activated yet (403)', async () => {
      const user = await registered(api);
      const response = await form(api, '/login', {
        username: user.username,
        password: user.password,
      });

      expectPage(response, 403);
      expect(response.text).toContain(`<a href="#sign-in-username">${NOT_ACTIVATED_PROBLEM}`);
    });

    it('shows a missing field next to it (400)', async () => {
      const response = await form(api, '/login', { username: 'ada' });

      expectPage(response, 400);
      expect(response.text).toContain('<a href="#sign-in-password">Password is required</a>');
    });
  });

  describe('GET /account', () => {
    it('shows the account, escaped, with sign-out, sign-out everywhere and the password form', async () => {
      const user = await activatedUser(api, { name: HOSTILE_NAME });
      const { cookie } = await signedIn(user);
      const response = await request(api.http).get('/account').set('Cookie', cookie);

      expectPage(response, 200);
      expect(mainText(response)).toContain(
        `Name &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Ada&quot; Username ${normaliseUsername(user.username)} E-mail address ${user.email} Status Active`,
      );
      expect(response.text.match(/<form [^>]*>/g)).toEqual([
        '<form method="post" action="./logout">',
        '<form method="post" action="./logout/all">',
        '<form method="post" action="./users/me/password" novalidate>',
      ]);
    });

    it.each([
      ['no cookie', undefined],
      ['a cookie of no session', `${SESSION_COOKIE}=ada.${'A'.repeat(43)}`],
    ])('sends to the start page with %s (303)', async (_case, cookie) => {
      const call = request(api.http).get('/account');
      const response = await (cookie ? call.set('Cookie', cookie) : call);

      expectSeeOther(response, './?notice=sign-in-first');
    });
  });

  describe('signing out from the account page', () => {
    it('POST /logout ends the session, clears the cookie and sends to the start page', async () => {
      const { cookie } = await signedIn();
      const response = await form(api, '/logout', {}, cookie);

      expectSeeOther(response, './?notice=signed-out');
      expect(setCookie(response, SESSION_COOKIE)?.value).toBe('');
      expectSeeOther(
        await request(api.http).get('/account').set('Cookie', cookie),
        './?notice=sign-in-first',
      );
    });

    it('POST /logout/all ends every session of the account', async () => {
      const user = await activatedUser(api);
      const first = await signedIn(user);
      const second = await signedIn(user);
      const response = await form(api, '/logout/all', {}, first.cookie);

      expectSeeOther(response, '../?notice=signed-out-everywhere');
      for (const cookie of [first.cookie, second.cookie]) {
        const account = await request(api.http).get('/account').set('Cookie', cookie);
        expect(account.status).toBe(303);
      }
    });

    it.each(['/logout', '/logout/all'])(
      'answers a sign-out form it cannot read (%s, an unknown charset) with the start page saying so (400)',
      async (path) => {
        const { cookie } = await signedIn();
        const response = await request(api.http)
          .post(path)
          .set('Cookie', cookie)
          .set('Content-Type', 'application/x-www-form-urlencoded; charset=koi8-r')
          .send('a=b');

        expectPage(response, 400);
        expect(mainText(response)).toContain(NOTICES['form-unreadable']);
        expect((await request(api.http).get('/account').set('Cookie', cookie)).status).toBe(200);
      },
    );

    it('POST /logout/all without a session shows the start page, asking to sign in again (401)', async () => {
      const response = await form(api, '/logout/all');

      expectPage(response, 401);
      expect(mainText(response)).toContain(NOTICES['session-ended']);
    });
  });

  describe('the change-password form (POST /users/me/password)', () => {
    const change = (cookie: string | undefined, fields: Record<string, string>) =>
      form(api, '/users/me/password', fields, cookie);

    it('changes the password, renews this session and sends on to the account page', async () => {
      const { user, cookie } = await signedIn();
      const response = await change(cookie, {
        currentPassword: user.password,
        newPassword: 'a brand new passphrase',
        newPasswordConfirmation: 'a brand new passphrase',
      });

      expectSeeOther(response, '../../account?notice=password-changed');
      const renewed = cookieOf(response);
      expect(renewed).not.toBe(cookie);
      expect((await request(api.http).get('/account').set('Cookie', renewed)).status).toBe(200);
      expect((await request(api.http).get('/account').set('Cookie', cookie)).status).toBe(303);
    });

    it('says a wrong current password is wrong, next to it, and changes nothing (403)', async () => {
      const { user, cookie } = await signedIn();
      const response = await change(cookie, {
        currentPassword: 'not it',
        newPassword: 'a brand new passphrase',
        newPasswordConfirmation: 'a brand new passphrase',
      });

      expectPage(response, 403);
      expect(response.text).toContain(
        `<a href="#password-currentPassword">${WRONG_CURRENT_PASSWORD_PROBLEM}</a>`,
      );
      expect(response.text).not.toContain('brand new');
      await signedIn(user);
    });

    it('shows a new password that breaks the rules and a confirmation that differs (400)', async () => {
      const { user, cookie } = await signedIn();
      const response = await change(cookie, {
        currentPassword: user.password,
        newPassword: 'short',
        newPasswordConfirmation: 'shorter',
      });

      expectPage(response, 400);
      const links = [...response.text.matchAll(/<li><a href="#([^"]+)">([^<]*)</g)].map(
        (m) => `${m[1]}: ${m[2]}`,
      );
      expect(links).toEqual([
        'password-newPassword: New password must be 8 to 128 characters long',
        `password-newPasswordConfirmation: ${PASSWORDS_DIFFER_PROBLEM}`,
      ]);
      expect(response.text).toContain('<a href="../../account">Back to your account</a>');
    });

    it('without a session, shows the start page, asking to sign in again (401)', async () => {
      const response = await change(undefined, {
        currentPassword: 'x',
        newPassword: 'a brand new passphrase',
      });

      expectPage(response, 401);
      expect(mainText(response)).toContain(NOTICES['session-ended']);
    });
  });
});

describe('the pages over a rate limit', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await createTestApp({
      env: {
        RATE_LIMIT_SCALE: '1',
        RATE_LIMIT_LOGIN_PER_ACCOUNT_AND_ADDRESS: '2/15m',
        RATE_LIMIT_REGISTER_PER_ADDRESS: '3/1h',
      },
    });
  });
  afterAll(() => api.close());

  // In this order: the password change registers its account (1 of the 3 sign-ups).
  it.each([
    ['password change', '/users/me/password', () => ({})],
    ['sign-in', '/login', () => ({ username: 'ada', password: 'wrong' })],
    ['sign-up', '/users', () => ({ ...newRegistration() })],
  ])(
    'answers the %s form over its limit with the "too many attempts" page',
    async (_case, path, body) => {
      let cookie: string | undefined;
      if (path === '/users/me/password') {
        const user = await activatedUser(api);
        const login = await form(api, '/login', {
          username: user.username,
          password: user.password,
        });
        cookie = cookieOf(login);
      }
      const fields = body();
      const statuses: number[] = [];
      let response: Response | undefined;
      while (statuses.length < 5 && response?.status !== 429) {
        response = await form(api, path, fields, cookie);
        statuses.push(response.status);
      }

      expect(statuses.at(-1)).toBe(429);
      expectPage(response!, 429);
      expect(response!.headers['retry-after']).toMatch(/^\d+$/);
      expect(mainText(response!)).toContain('Too many attempts Nothing was changed');
    },
  );
});
