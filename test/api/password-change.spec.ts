/**
 * Signed in, over HTTP and DynamoDB Local: `POST /users/me/password` (the current
 * password, then the new one, as JSON or the account page's form; every session of the
 * account ends and this browser gets a fresh one; its limit is sign-in's) and
 * `POST /logout/all` (every session of the account ends, on every instance, and no other
 * account's). The notice mail and a reset link dying on a change:
 * test/e2e/password-reset.spec.ts.
 */
import request, { type Response } from 'supertest';
import { UserStore } from '../../src/activation';
import { NOTICES } from '../../src/users/pages/account-pages';
import { PAGE_CONTENT_SECURITY_POLICY } from '../../src/users/pages/page';
import { PASSWORDS_DIFFER_PROBLEM } from '../../src/users/password/password-pages';
import { SessionStore } from '../../src/users/sessions/session-store';
import { WRONG_CURRENT_PASSWORD_PROBLEM } from '../../src/users/users.controller';
import { createTestApp, type TestApp } from '../support/test-app';
import {
  activatedUser,
  allItems,
  expectApiError,
  expectFieldErrors,
  type Registration,
  SESSION_COOKIE,
  setCookie,
  userItem,
} from './api-helpers';

const NEW_PASSWORD = 'a brand new passphrase';

const login = (api: TestApp, username: string, password: string) =>
  request(api.http).post('/login').send({ username, password });

const withSession = (call: request.Test, session?: string) =>
  session === undefined ? call : call.set('Cookie', `${SESSION_COOKIE}=${session}`);

const me = (api: TestApp, session: string) =>
  withSession(request(api.http).get('/users/me'), session);

const changePassword = (api: TestApp, session: string | undefined, body: unknown) =>
  withSession(request(api.http).post('/users/me/password'), session).send(body as object);

/** The account page's change-password form, as a browser posts it. */
const changePasswordForm = (
  api: TestApp,
  session: string | undefined,
  fields: Record<string, string>,
) =>
  withSession(request(api.http).post('/users/me/password'), session)
    .type('form')
    .send(new URLSearchParams(fields).toString());

const headingOf = (html: string) => /<h1>([^<]*)<\/h1>/.exec(html)?.[1];

/** A page's error summary: `the field's id: message`, in order. */
const summaryOf = (html: string) =>
  [...html.matchAll(/<li><a href="#([^"]*)">([^<]*)<\/a><\/li>/g)].map(
    (match) => `${match[1]}: ${match[2]}`,
  );

const logoutAll = (api: TestApp, session?: string) =>
  withSession(request(api.http).post('/logout/all'), session);

function sessionToken(response: Response): string {
  const cookie = setCookie(response, SESSION_COOKIE);
  if (!cookie)
    throw new Error(
      `no ${SESSION_COOKIE} cookie in ${JSON.stringify(response.headers['set-cookie'])}`,
    );
  return cookie.value;
}

async function signIn(api: TestApp, user: Registration, password = user.password) {
  const response = await login(api, user.username, password);
  expect(response.status).toBe(200);
  return sessionToken(response);
}

/** An active account and `count` sessions of it, each its own sign-in. */
async function signedIn(
  api: TestApp,
  count = 1,
): Promise<{ user: Registration; sessions: string[] }> {
  const user = await activatedUser(api);
  const sessions: string[] = [];
  for (let i = 0; i < count; i += 1) sessions.push(await signIn(api, user));
  return { user, sessions };
}

const sessionItemsOf = async (api: TestApp, username: string) =>
  (await allItems(api, 'sessions')).filter((item) => item.username === username);

describe('signed in: the password and the sessions', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await createTestApp();
  });
  afterAll(() => api.close());

  describe('POST /users/me/password', () => {
    it('is 401 NOT_SIGNED_IN without a session, with a forged one and with an ended one, changing nothing', async () => {
      const { user, sessions } = await signedIn(api);
      const [session] = sessions as [string];
      const ended = await signIn(api, user);
      expect(
        (await request(api.http).post('/logout').set('Cookie', `${SESSION_COOKIE}=${ended}`))
          .status,
      ).toBe(204);
      const before = await userItem(api, user.username);
      const body = { currentPassword: user.password, newPassword: NEW_PASSWORD };

      const answers = [
        await changePassword(api, undefined, body),
        await changePassword(
          api,
          `${session.slice(0, -1)}${session.endsWith('A') ? 'B' : 'A'}`,
          body,
        ),
        await changePassword(api, ended, body),
        await changePassword(api, 'not a session', body),
      ];

      for (const answer of answers) {
        expectApiError(answer, 401, 'NOT_SIGNED_IN');
        expect(answer.headers['set-cookie']).toBeUndefined();
      }
      expect(await userItem(api, user.username)).toEqual(before);
      expect((await me(api, session)).status).toBe(200);
    });

    it('refuses a wrong current password with 403 WRONG_PASSWORD and changes nothing', async () => {
      const { user, sessions } = await signedIn(api, 2);
      const before = await userItem(api, user.username);
      const sessionsBefore = await sessionItemsOf(api, user.username);

      const answers = [
        await changePassword(api, sessions[0], {
          currentPassword: `${user.password}!`,
          newPassword: NEW_PASSWORD,
        }),
        await changePassword(api, sessions[0], {
          currentPassword: user.password.toUpperCase(),
          newPassword: NEW_PASSWORD,
        }),
        await changePassword(api, sessions[0], { currentPassword: '', newPassword: NEW_PASSWORD }),
      ];

      for (const answer of answers) {
        expectApiError(answer, 403, 'WRONG_PASSWORD');
        expect(answer.headers['set-cookie']).toBeUndefined();
      }
      expect(await userItem(api, user.username)).toEqual(before);
      expect(await sessionItemsOf(api, user.username)).toEqual(sessionsBefore);
      for (const session of sessions) expect((await me(api, session)).status).toBe(200);
      expectApiError(await login(api, user.username, NEW_PASSWORD), 401, 'INVALID_CREDENTIALS');
      expect((await login(api, user.username, user.password)).status).toBe(200);
    });

    it.each([
      [
        'no fields',
        {},
        [
          { field: 'currentPassword', messages: ['currentPassword is required'] },
          { field: 'newPassword', messages: ['newPassword is required'] },
        ],
      ],
      [
        'no new password',
        { currentPassword: 'whatever it is' },
        [{ field: 'newPassword', messages: ['newPassword is required'] }],
      ],
      [
        'a new password that is too short',
        { currentPassword: 'whatever it is', newPassword: 'short' },
        [{ field: 'newPassword', messages: ['newPassword must be 8 to 128 characters long'] }],
      ],
      [
        'a new password that is too long',
        { currentPassword: 'whatever it is', newPassword: 'p'.repeat(129) },
        [{ field: 'newPassword', messages: ['newPassword must be 8 to 128 characters long'] }],
      ],
      [
        'a new password with a lone surrogate',
        { currentPassword: 'whatever it is', newPassword: 'abcdefgh\ud800' },
        [{ field: 'newPassword', messages: ['newPassword must be valid Unicode text'] }],
      ],
      [
        'non-strings',
        { currentPassword: 42, newPassword: ['a brand new passphrase'] },
        [
          { field: 'currentPassword', messages: ['currentPassword must be a string'] },
          { field: 'newPassword', messages: ['newPassword must be a string'] },
        ],
      ],
      [
        'an oversized current password',
        { currentPassword: 'p'.repeat(1025), newPassword: NEW_PASSWORD },
        [
          {
            field: 'currentPassword',
            messages: ['currentPassword must be at most 1024 characters long'],
          },
        ],
      ],
      [
        'an unknown field',
        { currentPassword: 'whatever it is', newPassword: NEW_PASSWORD, username: 'someone' },
        [{ field: 'username', messages: ['property username should not exist'] }],
      ],
      [
        'a confirmation that differs from the new password',
        {
          currentPassword: 'whatever it is',
          newPassword: NEW_PASSWORD,
          newPasswordConfirmation: `${NEW_PASSWORD}!`,
        },
        [
          {
            field: 'newPasswordConfirmation',
            messages: ['newPasswordConfirmation must equal newPassword'],
          },
        ],
      ],
      [
        'a new password that is too short and a confirmation that differs (both at once)',
        { currentPassword: 'whatever it is', newPassword: 'short', newPasswordConfirmation: 'x' },
        [
          { field: 'newPassword', messages: ['newPassword must be 8 to 128 characters long'] },
          {
            field: 'newPasswordConfirmation',
            messages: ['newPasswordConfirmation must equal newPassword'],
          },
        ],
      ],
      [
        'a confirmation that is no string',
        {
          currentPassword: 'whatever it is',
          newPassword: NEW_PASSWORD,
          newPasswordConfirmation: 7,
        },
        [
          {
            field: 'newPasswordConfirmation',
            messages: ['newPasswordConfirmation must be a string'],
          },
        ],
      ],
    ])('refuses %s with 400 and field messages, changing nothing', async (_case, body, errors) => {
      const { user, sessions } = await signedIn(api);
      const before = await userItem(api, user.username);

      const response = await changePassword(api, sessions[0], body);

      expectFieldErrors(
        response,
        errors.map((error) => error.field),
      );
      expect(response.body.errors).toEqual(errors);
      expect(await userItem(api, user.username)).toEqual(before);
      expect((await me(api, sessions[0]!)).status).toBe(200);
    });

    it('refuses a bad new password with 400 even with the right current one', async () => {
      const { user, sessions } = await signedIn(api);
      const before = await userItem(api, user.username);

      const response = await changePassword(api, sessions[0], {
        currentPassword: user.password,
        newPassword: 'short',
      });

      expectFieldErrors(response, ['newPassword']);
      expect(await userItem(api, user.username)).toEqual(before);
    });

    it.each([
      ['text/plain', 'currentPassword=x&newPassword=y'],
      [
        'multipart/form-data; boundary=x',
        '--x\r\nContent-Disposition: form-data; name="currentPassword"\r\n\r\nx\r\n--x--\r\n',
      ],
    ])('refuses a %s body with the API 415, changing nothing', async (type, body) => {
      const { user, sessions } = await signedIn(api);
      const before = await userItem(api, user.username);

      const response = await withSession(request(api.http).post('/users/me/password'), sessions[0])
        .set('Content-Type', type)
        .send(body);

      expectApiError(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect(response.headers['set-cookie']).toBeUndefined();
      expect(await userItem(api, user.username)).toEqual(before);
      expect((await me(api, sessions[0]!)).status).toBe(200);
    });

    it('answers a POST with no body with JSON, not a page', async () => {
      const { sessions } = await signedIn(api);

      const response = await withSession(request(api.http).post('/users/me/password'), sessions[0]);

      expectFieldErrors(response, ['currentPassword', 'newPassword']);
    });

    it('takes the account page’s form: 303 to the account page with a fresh session; every older session ends', async () => {
      const { user, sessions } = await signedIn(api, 2);
      const [other, current] = sessions as [string, string];

      const response = await changePasswordForm(api, current, {
        currentPassword: user.password,
        newPassword: NEW_PASSWORD,
        newPasswordConfirmation: NEW_PASSWORD,
      });

      expect(response.status).toBe(303);
      expect(response.headers.location).toBe('../../account?notice=password-changed');
      expect(
        new URL(response.headers.location!, 'http://cards.test/users/me/password').pathname,
      ).toBe('/account');
      expect(response.text).toBe('');
      expect(response.headers).toMatchObject({
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
      });
      const cookie = setCookie(response, SESSION_COOKIE)!;
      expect(cookie.value.startsWith(`${user.username}.`)).toBe(true);
      expect(cookie.attributes).toEqual(
        expect.arrayContaining(['HttpOnly', 'SameSite=Lax', 'Path=/']),
      );
      expect(sessions).not.toContain(cookie.value);
      expectApiError(await me(api, other), 401, 'NOT_SIGNED_IN');
      expectApiError(await me(api, current), 401, 'NOT_SIGNED_IN');
      expect((await me(api, cookie.value)).body.username).toBe(user.username);
      expectApiError(await login(api, user.username, user.password), 401, 'INVALID_CREDENTIALS');
      expect((await login(api, user.username, NEW_PASSWORD)).status).toBe(200);
      expect(await userItem(api, user.username)).toMatchObject({
        mailRequestKind: 'PASSWORD_CHANGED',
      });
    });

    it('answers the form’s refusals with pages: the form again (400, 403), the start page without a session (401); changing nothing', async () => {
      const { user, sessions } = await signedIn(api);
      const before = await userItem(api, user.username);

      const answers = [
        await changePasswordForm(api, sessions[0], {
          currentPassword: user.password,
          newPassword: 'short',
          newPasswordConfirmation: 'shorter',
        }),
        await changePasswordForm(api, sessions[0], {
          currentPassword: `${user.password}!`,
          newPassword: NEW_PASSWORD,
          newPasswordConfirmation: NEW_PASSWORD,
        }),
        await changePasswordForm(api, undefined, {
          currentPassword: user.password,
          newPassword: NEW_PASSWORD,
          newPasswordConfirmation: NEW_PASSWORD,
        }),
      ];

      expect(answers.map((answer) => [answer.status, answer.type, headingOf(answer.text)])).toEqual(
        [
          [400, 'text/html', 'Change your password'],
          [403, 'text/html', 'Change your password'],
          [401, 'text/html', 'Your Digital Card Store account'],
        ],
      );
      expect(answers.map((answer) => summaryOf(answer.text))).toEqual([
        [
          'password-newPassword: New password must be 8 to 128 characters long',
          `password-newPasswordConfirmation: ${PASSWORDS_DIFFER_PROBLEM}`,
        ],
        [`password-currentPassword: ${WRONG_CURRENT_PASSWORD_PROBLEM}`],
        [],
      ]);
      expect(answers[2]!.text).toContain(NOTICES['session-ended']);
      for (const answer of answers) {
        expect(answer.headers['content-security-policy']).toBe(PAGE_CONTENT_SECURITY_POLICY);
        expect(answer.headers['set-cookie']).toBeUndefined();
        // Passwords never come back.
        expect(answer.text).not.toMatch(/type="password"[^>]*value=/);
        for (const password of [user.password, NEW_PASSWORD, 'shorter']) {
          expect(answer.text).not.toContain(password);
        }
      }
      expect(await userItem(api, user.username)).toEqual(before);
      expect((await me(api, sessions[0]!)).status).toBe(200);
    });

    it('answers a form with JSON, as before, when the client asks for it', async () => {
      const { user, sessions } = await signedIn(api);

      const wrong = await changePasswordForm(api, sessions[0], {
        currentPassword: `${user.password}!`,
        newPassword: NEW_PASSWORD,
      }).set('Accept', 'application/json');
      const response = await changePasswordForm(api, sessions[0], {
        currentPassword: user.password,
        newPassword: NEW_PASSWORD,
        newPasswordConfirmation: NEW_PASSWORD,
      }).set('Accept', 'application/json');

      expectApiError(wrong, 403, 'WRONG_PASSWORD');
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(response.body).toEqual({
        user: {
          username: user.username,
          email: user.email,
          name: user.name,
          activationStatus: 'DONE',
        },
        expiresAt: expect.any(String),
      });
      expect((await me(api, sessionToken(response))).status).toBe(200);
      expect((await login(api, user.username, NEW_PASSWORD)).status).toBe(200);
    });

    it('takes a JSON newPasswordConfirmation that equals the new password', async () => {
      const { user, sessions } = await signedIn(api);

      const response = await changePassword(api, sessions[0], {
        currentPassword: user.password,
        newPassword: NEW_PASSWORD,
        newPasswordConfirmation: NEW_PASSWORD,
      });

      expect(response.status).toBe(200);
      expect((await login(api, user.username, NEW_PASSWORD)).status).toBe(200);
    });

    it('changes the password: 200 with the user and a fresh session; every older session ends, the old password fails', async () => {
      const { user, sessions } = await signedIn(api, 2);
      const [other, current] = sessions as [string, string];
      const before = await userItem(api, user.username);
      const start = Date.now();

      const response = await changePassword(api, current, {
        currentPassword: user.password,
        newPassword: NEW_PASSWORD,
      });

      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        user: {
          username: user.username,
          email: user.email,
          name: user.name,
          activationStatus: 'DONE',
        },
        expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      });
      const ttlMs = api.config.session.ttlSeconds * 1000;
      expect(Date.parse(response.body.expiresAt)).toBeGreaterThanOrEqual(start + ttlMs - 1000);
      expect(Date.parse(response.body.expiresAt)).toBeLessThanOrEqual(Date.now() + ttlMs + 1000);
      expect(response.text).not.toContain(NEW_PASSWORD);
      expect(response.text).not.toMatch(/argon2|passwordHash/);
      const cookie = setCookie(response, SESSION_COOKIE)!;
      expect(cookie.value.startsWith(`${user.username}.`)).toBe(true);
      expect(cookie.attributes).toEqual(
        expect.arrayContaining(['HttpOnly', 'SameSite=Lax', 'Path=/']),
      );
      const fresh = cookie.value;
      expect(sessions).not.toContain(fresh);

      expectApiError(await me(api, other), 401, 'NOT_SIGNED_IN');
      expectApiError(await me(api, current), 401, 'NOT_SIGNED_IN');
      const mine = await me(api, fresh);
      expect([mine.status, mine.body.username]).toEqual([200, user.username]);
      expectApiError(await login(api, user.username, user.password), 401, 'INVALID_CREDENTIALS');
      expect((await login(api, user.username, NEW_PASSWORD)).status).toBe(200);
      const after = await userItem(api, user.username);
      expect(after?.passwordHash).not.toBe(before?.passwordHash);
      expect(after).toMatchObject({
        activationStatus: 'DONE',
        mailRequestKind: 'PASSWORD_CHANGED',
        passwordChangedAt: expect.any(String),
      });
    });

    it('gives the fresh cookie the expiry of the fresh session', async () => {
      const { user, sessions } = await signedIn(api);

      const response = await changePassword(api, sessions[0], {
        currentPassword: user.password,
        newPassword: NEW_PASSWORD,
      });

      const expires = setCookie(response, SESSION_COOKIE)!.attributes.find((attribute) =>
        attribute.startsWith('Expires='),
      );
      expect(Date.parse(expires!.slice('Expires='.length))).toBe(
        Math.floor(Date.parse(response.body.expiresAt) / 1000) * 1000,
      );
    });

    it('lets one of two racing changes with the same current password win; the other is 403', async () => {
      const { user, sessions } = await signedIn(api, 2);
      const passwords = ['the first new passphrase', 'the second new passphrase'];

      const answers = await Promise.all(
        passwords.map((newPassword, i) =>
          changePassword(api, sessions[i], { currentPassword: user.password, newPassword }),
        ),
      );

      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 403]);
      const winner = answers.findIndex((answer) => answer.status === 200);
      expectApiError(answers[1 - winner]!, 403, 'WRONG_PASSWORD');
      expect((await login(api, user.username, passwords[winner]!)).status).toBe(200);
      expect((await login(api, user.username, passwords[1 - winner]!)).status).toBe(401);
      expect((await me(api, sessionToken(answers[winner]!))).status).toBe(200);
    });

    it('answers 200 without a session, clearing the cookie, when the password changed again before the fresh session', async () => {
      const { user, sessions } = await signedIn(api);
      const store = api.app.get(SessionStore, { strict: false });
      // Another tab (or a reset) changed the password between this change and its session.
      const start = jest.spyOn(store, 'start').mockResolvedValueOnce(undefined);
      let response: Response;
      try {
        response = await changePassword(api, sessions[0], {
          currentPassword: user.password,
          newPassword: NEW_PASSWORD,
        });
      } finally {
        start.mockRestore();
      }

      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        user: {
          username: user.username,
          email: user.email,
          name: user.name,
          activationStatus: 'DONE',
        },
      });
      expect(setCookie(response, SESSION_COOKIE)?.value).toBe('');
      expectApiError(await me(api, sessions[0]!), 401, 'NOT_SIGNED_IN');
      expect((await login(api, user.username, NEW_PASSWORD)).status).toBe(200);
    });

    it('ends a sign-in with the old password that races the change: it does not outlive it', async () => {
      const { user, sessions } = await signedIn(api);
      const store = api.app.get(UserStore, { strict: false });
      const write = store.changePassword.bind(store);
      let raced: Response | undefined;
      // Another device signs in with the old password while the change is being written:
      // its session is stored before the change is.
      const change = jest.spyOn(store, 'changePassword').mockImplementationOnce(async (input) => {
        raced = await login(api, user.username, user.password);
        return write(input);
      });
      let response: Response;
      try {
        response = await changePassword(api, sessions[0], {
          currentPassword: user.password,
          newPassword: NEW_PASSWORD,
        });
      } finally {
        change.mockRestore();
      }

      expect(response.status).toBe(200);
      expect(raced?.status).toBe(200);
      expectApiError(await login(api, user.username, user.password), 401, 'INVALID_CREDENTIALS');
      // Signed in with a password that no longer is the account's: no session may outlive it.
      expectApiError(await me(api, sessionToken(raced!)), 401, 'NOT_SIGNED_IN');
    });

    it('refuses the old password as the current one once it changed, with the fresh session', async () => {
      const { user, sessions } = await signedIn(api);
      const changed = await changePassword(api, sessions[0], {
        currentPassword: user.password,
        newPassword: NEW_PASSWORD,
      });
      const fresh = sessionToken(changed);

      const again = await changePassword(api, fresh, {
        currentPassword: user.password,
        newPassword: 'yet another passphrase',
      });

      expectApiError(again, 403, 'WRONG_PASSWORD');
      expect((await me(api, fresh)).status).toBe(200);
      expect((await login(api, user.username, NEW_PASSWORD)).status).toBe(200);
    });
  });

  describe('POST /logout/all', () => {
    it('is 401 NOT_SIGNED_IN without a session, or with an ended one', async () => {
      const { sessions } = await signedIn(api);
      await logoutAll(api, sessions[0]);

      const answers = [await logoutAll(api), await logoutAll(api, sessions[0])];

      for (const answer of answers) expectApiError(answer, 401, 'NOT_SIGNED_IN');
    });

    it('answers 204, clears the cookie and ends every session of the account, and no other account’s', async () => {
      const { user, sessions } = await signedIn(api, 2);
      const [first, second] = sessions as [string, string];
      const { user: otherUser, sessions: others } = await signedIn(api);
      const otherItems = await sessionItemsOf(api, otherUser.username);

      const response = await logoutAll(api, first);

      expect(response.status).toBe(204);
      expect(response.text).toBe('');
      const cleared = setCookie(response, SESSION_COOKIE);
      expect(cleared?.value).toBe('');
      expect(cleared?.attributes).toEqual(
        expect.arrayContaining(['Expires=Thu, 01 Jan 1970 00:00:00 GMT']),
      );
      expectApiError(await me(api, first), 401, 'NOT_SIGNED_IN');
      expectApiError(await me(api, second), 401, 'NOT_SIGNED_IN');
      expect((await me(api, others[0]!)).status).toBe(200);
      // Only the account's marker is left of its sessions; the other account's are untouched.
      expect(await sessionItemsOf(api, user.username)).toEqual([
        {
          username: user.username,
          sessionIdHash: '#ended',
          endedAt: expect.any(Number),
          generation: 1,
        },
      ]);
      expect(await sessionItemsOf(api, otherUser.username)).toEqual(otherItems);
    });

    it('lets the account sign in again afterwards, and the new session works', async () => {
      const { user, sessions } = await signedIn(api);
      expect((await logoutAll(api, sessions[0])).status).toBe(204);

      const fresh = await signIn(api, user);

      const response = await me(api, fresh);
      expect([response.status, response.body.username]).toEqual([200, user.username]);
      expectApiError(await me(api, sessions[0]!), 401, 'NOT_SIGNED_IN');
    });

    it('ends the sessions on every instance over the same tables', async () => {
      const other = await createTestApp({ tables: api.tables });
      try {
        const { sessions } = await signedIn(api, 2);
        expect((await me(other, sessions[1]!)).status).toBe(200);

        expect((await logoutAll(other, sessions[0])).status).toBe(204);

        expectApiError(await me(api, sessions[1]!), 401, 'NOT_SIGNED_IN');
        expectApiError(await me(other, sessions[1]!), 401, 'NOT_SIGNED_IN');
      } finally {
        await other.close();
      }
    });
  });
});

describe('POST /users/me/password: the limit', () => {
  /** Sign-in's per-account-and-address limit, small and unscaled; the rest out of the way. */
  const LIMITS = {
    RATE_LIMIT_SCALE: '1',
    RATE_LIMIT_REGISTER_PER_ADDRESS: '1000/1h',
    RATE_LIMIT_LOGIN_PER_ADDRESS: '1000/15m',
    RATE_LIMIT_LOGIN_PER_ACCOUNT: '1000/1h',
    RATE_LIMIT_LOGIN_PER_ACCOUNT_AND_ADDRESS: '4/15m',
  };

  let api: TestApp;

  beforeAll(async () => {
    api = await createTestApp({ env: LIMITS });
  });
  afterAll(() => api.close());

  it('is 429 after repeated wrong current passwords, even for the right one, and changes nothing', async () => {
    const user = await activatedUser(api);
    // The sign-in counts too: the limit is sign-in's, by the session's account.
    const session = await signIn(api, user);
    const wrong = { currentPassword: 'not the password', newPassword: NEW_PASSWORD };
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1)
      statuses.push((await changePassword(api, session, wrong)).status);
    const before = await userItem(api, user.username);

    const right = await changePassword(api, session, {
      currentPassword: user.password,
      newPassword: NEW_PASSWORD,
    });

    expect(statuses).toEqual([403, 403, 403]);
    expectApiError(right, 429, 'RATE_LIMITED');
    expect(right.body.message).toMatch(/^Too many requests; try again in \d+ seconds\.$/);
    expect(String(right.headers.ratelimit)).toContain('"login-account-address";r=0;');
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(800);
    expect(right.headers['set-cookie']).toBeUndefined();
    expect(await userItem(api, user.username)).toEqual(before);
    expect((await me(api, session)).status).toBe(200);
    // The same counter as sign-in's: this address cannot sign in to the account either.
    expectApiError(await login(api, user.username, user.password), 429, 'RATE_LIMITED');
  });

  it('declares sign-in’s limits, counted by the session’s account', async () => {
    const user = await activatedUser(api);
    const session = await signIn(api, user);

    const response = await changePassword(api, session, {
      currentPassword: 'not the password',
      newPassword: NEW_PASSWORD,
      username: 'someone-else',
    });

    expect(String(response.headers['ratelimit-policy']).split(', ').sort()).toEqual([
      '"login-account";q=1000;w=3600',
      '"login-account-address";q=4;w=900',
    ]);
    // One sign-in and this request: the session's account, not the body's username.
    expect(String(response.headers.ratelimit)).toContain('"login-account-address";r=2;');
  });
});
