/**
 * POST /login, GET /users/me and POST /logout: who may sign in, what the session cookie
 * looks like, that sessions live in DynamoDB (shared by every instance, stored as a hash)
 * and that signing out ends them everywhere.
 */
import { createHash } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import request, { type Response } from 'supertest';
import { createTestApp, type TestApp } from '../support/test-app';
import {
  activatedUser,
  allItems,
  expectApiError,
  newRegistration,
  type Registration,
  registered,
  SESSION_COOKIE,
  setCookie,
} from './api-helpers';

const login = (api: TestApp, username: string, password: string) =>
  request(api.http).post('/login').send({ username, password });

const me = (api: TestApp, token: string) =>
  request(api.http).get('/users/me').set('Cookie', `${SESSION_COOKIE}=${token}`);

const logout = (api: TestApp, token?: string) => {
  const call = request(api.http).post('/logout');
  return token === undefined ? call : call.set('Cookie', `${SESSION_COOKIE}=${token}`);
};

function sessionToken(response: Response): string {
  const cookie = setCookie(response, SESSION_COOKIE);
  if (!cookie)
    throw new Error(
      `no ${SESSION_COOKIE} cookie in ${JSON.stringify(response.headers['set-cookie'])}`,
    );
  return cookie.value;
}

async function signedIn(api: TestApp): Promise<{ user: Registration; token: string }> {
  const user = await activatedUser(api);
  const response = await login(api, user.username, user.password);
  expect(response.status).toBe(200);
  return { user, token: sessionToken(response) };
}

/** The stored hash of a cookie value's secret (`<username>.<secret>`). */
const secretHash = (token: string) =>
  createHash('sha256')
    .update(token.slice(token.lastIndexOf('.') + 1))
    .digest('hex');

describe('sign-in and sessions', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await createTestApp();
  });
  afterAll(() => api.close());

  describe('POST /login', () => {
    it('is refused with 403 ACCOUNT_NOT_ACTIVATED before activation, without a cookie', async () => {
      const user = await registered(api);

      const response = await login(api, user.username, user.password);

      expectApiError(response, 403, 'ACCOUNT_NOT_ACTIVATED');
      expect(response.headers['set-cookie']).toBeUndefined();
    });

    it('is refused with 403 while the activation mail is out (status MAIL_SENT)', async () => {
      const user = await registered(api);
      await api.tables.documentClient.send(
        new UpdateCommand({
          TableName: api.config.dynamodb.tables.users,
          Key: { username: user.username },
          UpdateExpression: 'SET activationStatus = :sent',
          ExpressionAttributeValues: { ':sent': 'MAIL_SENT' },
        }),
      );

      const response = await login(api, user.username, user.password);

      expectApiError(response, 403, 'ACCOUNT_NOT_ACTIVATED');
    });

    it('accepts an activated user: 200 with the public user, the expiry and a session cookie', async () => {
      const user = await activatedUser(api);
      const before = Date.now();

      const response = await login(api, user.username, user.password);

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
      const expiresAt = Date.parse(response.body.expiresAt);
      expect(expiresAt).toBeGreaterThanOrEqual(before + ttlMs - 1000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + ttlMs + 1000);
      expect(response.text).not.toContain(user.password);
      expect(response.text).not.toMatch(/argon2|passwordHash/);
    });

    it('sets the session cookie HttpOnly, SameSite=Lax, for the whole site, expiring with the session', async () => {
      const user = await activatedUser(api);

      const response = await login(api, user.username, user.password);

      const cookie = setCookie(response, SESSION_COOKIE)!;
      // `<username>.<secret>`: the account, to find the session under, and 256 random bits.
      expect(cookie.value.startsWith(`${user.username}.`)).toBe(true);
      expect(cookie.value.slice(user.username.length + 1)).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(cookie.attributes).toEqual(
        expect.arrayContaining(['HttpOnly', 'SameSite=Lax', 'Path=/']),
      );
      const expires = cookie.attributes.find((attribute) => attribute.startsWith('Expires='));
      expect(Date.parse(expires!.slice('Expires='.length))).toBe(
        Math.floor(Date.parse(response.body.expiresAt) / 1000) * 1000,
      );
      // PUBLIC_BASE_URL of the tests is http, so the cookie cannot be Secure.
      expect(cookie.attributes).not.toContain('Secure');
    });

    it('gives every sign-in a new session token', async () => {
      const user = await activatedUser(api);

      const first = await login(api, user.username, user.password);
      const second = await login(api, user.username, user.password);

      expect(sessionToken(first)).not.toBe(sessionToken(second));
    });

    it('accepts the username in another letter case and with surrounding spaces', async () => {
      const user = await activatedUser(api);

      const response = await login(api, `  ${user.username.toUpperCase()} `, user.password);

      expect(response.status).toBe(200);
      expect(response.body.user.username).toBe(user.username);
    });

    it('refuses a wrong password with 401 INVALID_CREDENTIALS and no cookie', async () => {
      const user = await activatedUser(api);

      const response = await login(api, user.username, `${user.password}!`);

      expectApiError(response, 401, 'INVALID_CREDENTIALS');
      expect(response.headers['set-cookie']).toBeUndefined();
    });

    it('checks the password exactly: no trimming, no case folding', async () => {
      const user = await activatedUser(api, { password: ' Spaced Password ' });

      const trimmed = await login(api, user.username, 'Spaced Password');
      const lowered = await login(api, user.username, ' spaced password ');
      const exact = await login(api, user.username, ' Spaced Password ');

      expect([trimmed.status, lowered.status, exact.status]).toEqual([401, 401, 200]);
    });

    it('accepts the password in another Unicode normalisation form', async () => {
      const user = await activatedUser(api, { password: 'caf\u00e9 au lait' });

      const response = await login(api, user.username, 'cafe\u0301 au lait');

      expect(response.status).toBe(200);
    });

    it('answers an unknown user exactly like a wrong password', async () => {
      const user = await activatedUser(api);

      const wrongPassword = await login(api, user.username, 'not the password');
      const unknownUser = await login(api, newRegistration().username, 'not the password');

      expectApiError(unknownUser, 401, 'INVALID_CREDENTIALS');
      const { requestId: _a, ...wrongPasswordBody } = wrongPassword.body;
      const { requestId: _b, ...unknownUserBody } = unknownUser.body;
      expect(unknownUserBody).toEqual(wrongPasswordBody);
    });

    it('answers a wrong password for an account that is not activated with 401, not 403', async () => {
      const user = await registered(api);

      const response = await login(api, user.username, 'not the password');

      expectApiError(response, 401, 'INVALID_CREDENTIALS');
    });

    it.each([
      ['empty', ''],
      ['white space only', '   '],
    ])('answers a username that is %s with 401 INVALID_CREDENTIALS', async (_case, username) => {
      const response = await login(api, username, 'whatever password');

      expectApiError(response, 401, 'INVALID_CREDENTIALS');
    });

    it.each([
      ['username', { password: 'x' }],
      ['password', { username: 'ada' }],
    ])('requires the %s', async (field, body) => {
      const response = await request(api.http).post('/login').send(body);

      expectApiError(response, 400, 'VALIDATION_FAILED');
      expect(response.body.errors).toEqual([{ field, messages: [`${field} is required`] }]);
    });

    it.each([
      ['username', { username: 1, password: 'whatever password' }],
      ['password', { username: 'ada', password: ['x'] }],
    ])('says the %s must be a string, not how long it may be', async (field, body) => {
      const response = await request(api.http).post('/login').send(body);

      expectApiError(response, 400, 'VALIDATION_FAILED');
      expect(response.body.errors).toEqual([{ field, messages: [`${field} must be a string`] }]);
    });

    it('refuses unknown fields and names them', async () => {
      const response = await request(api.http)
        .post('/login')
        .send({ username: 'ada', password: 'whatever password', remember: true });

      expectApiError(response, 400, 'VALIDATION_FAILED');
      expect(response.body.errors).toEqual([
        { field: 'remember', messages: ['property remember should not exist'] },
      ]);
    });
  });

  describe('GET /users/me', () => {
    it('shows the signed-in user', async () => {
      const { user, token } = await signedIn(api);

      const response = await me(api, token);

      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        username: user.username,
        email: user.email,
        name: user.name,
        activationStatus: 'DONE',
      });
    });

    it('is 401 NOT_SIGNED_IN without a cookie', async () => {
      const response = await request(api.http).get('/users/me');

      expectApiError(response, 401, 'NOT_SIGNED_IN');
    });

    it('is 401 NOT_SIGNED_IN for a token that was never issued', async () => {
      const { token } = await signedIn(api);
      const forged = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;

      const response = await me(api, forged);

      expectApiError(response, 401, 'NOT_SIGNED_IN');
    });

    it('is 401 NOT_SIGNED_IN for a session past its expiry, even while the item is still stored', async () => {
      const { token } = await signedIn(api);
      await api.tables.documentClient.send(
        new UpdateCommand({
          TableName: api.config.dynamodb.tables.sessions,
          Key: { username: token.split('.')[0], sessionIdHash: secretHash(token) },
          UpdateExpression: 'SET expiresAt = :past',
          ConditionExpression: 'attribute_exists(sessionIdHash)',
          ExpressionAttributeValues: { ':past': Math.floor(Date.now() / 1000) - 1 },
        }),
      );

      const response = await me(api, token);

      expectApiError(response, 401, 'NOT_SIGNED_IN');
    });
  });

  describe('the session table', () => {
    it('stores the SHA-256 hash of the token, never the token itself', async () => {
      const { user, token } = await signedIn(api);

      const sessions = (await allItems(api, 'sessions')).filter(
        (item) => item.username === user.username,
      );

      expect(sessions).toEqual([
        {
          sessionIdHash: secretHash(token),
          username: user.username,
          createdAt: expect.any(String),
          generation: 0,
          expiresAt: expect.any(Number),
        },
      ]);
      expect(JSON.stringify(sessions)).not.toContain(token.slice(token.lastIndexOf('.') + 1));
    });
  });

  describe('POST /logout', () => {
    it('answers 204, clears the cookie and ends the session: the old cookie no longer works', async () => {
      const { token } = await signedIn(api);

      const response = await logout(api, token);

      expect(response.status).toBe(204);
      expect(response.text).toBe('');
      const cleared = setCookie(response, SESSION_COOKIE);
      expect(cleared?.value).toBe('');
      expect(cleared?.attributes).toEqual(
        expect.arrayContaining(['Expires=Thu, 01 Jan 1970 00:00:00 GMT']),
      );
      expectApiError(await me(api, token), 401, 'NOT_SIGNED_IN');
    });

    it('deletes the session item', async () => {
      const { user, token } = await signedIn(api);

      await logout(api, token);

      const sessions = (await allItems(api, 'sessions')).filter(
        (item) => item.username === user.username,
      );
      expect(sessions).toEqual([]);
    });

    it('is idempotent: signing out again, or without a cookie, is also 204', async () => {
      const { token } = await signedIn(api);
      await logout(api, token);

      const again = await logout(api, token);
      const withoutCookie = await logout(api);

      expect([again.status, withoutCookie.status]).toEqual([204, 204]);
    });

    it('ends only its own session, not the other sessions of the same user', async () => {
      const user = await activatedUser(api);
      const first = sessionToken(await login(api, user.username, user.password));
      const second = sessionToken(await login(api, user.username, user.password));

      await logout(api, first);

      expect((await me(api, first)).status).toBe(401);
      expect((await me(api, second)).status).toBe(200);
    });
  });

  describe('with two instances of the app on the same tables', () => {
    let other: TestApp;

    beforeAll(async () => {
      other = await createTestApp({ tables: api.tables });
    });
    afterAll(() => other.close());

    it('a session started on one instance works on the other', async () => {
      const { user, token } = await signedIn(api);

      const response = await me(other, token);

      expect(response.status).toBe(200);
      expect(response.body.username).toBe(user.username);
    });

    it('signing out on one instance ends the session on the other', async () => {
      const { token } = await signedIn(api);
      expect((await me(other, token)).status).toBe(200);

      await logout(other, token);

      expectApiError(await me(api, token), 401, 'NOT_SIGNED_IN');
      expectApiError(await me(other, token), 401, 'NOT_SIGNED_IN');
    });

    it('a user registered on one instance is taken on the other', async () => {
      const user = await registered(api);

      const response = await request(other.http)
        .post('/users')
        // Another password: with the account's own, a pending username is the typo fix.
        .send(newRegistration({ username: user.username, password: 'another password 123' }));

      expectApiError(response, 409, 'USERNAME_TAKEN');
    });
  });
});
