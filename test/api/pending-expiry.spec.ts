/**
 * Abandoned sign-ups clean themselves up: an account not activated within
 * PENDING_ACCOUNT_TTL_SECONDS is gone at once for the API (its username and address are
 * free, sign-in and activation see no account), whatever DynamoDB's TTL has not deleted
 * yet. Over DynamoDB Local with a 2 s TTL; activation removes the expiry.
 */
import request from 'supertest';
import { createTestApp, type TestApp } from '../support/test-app';
import {
  expectApiError,
  mailedUser,
  newRegistration,
  register,
  userEmailItem,
  userItem,
} from './api-helpers';

const PENDING_TTL_SECONDS = 2;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pastTheTtl = () => sleep(PENDING_TTL_SECONDS * 1000 + 1100);

const activate = (api: TestApp, body: Record<string, string>) =>
  request(api.http).post('/activate').set('Accept', 'application/json').send(body);

describe('pending accounts that are never activated', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await createTestApp({
      env: { PENDING_ACCOUNT_TTL_SECONDS: String(PENDING_TTL_SECONDS) },
    });
  });
  afterAll(() => api.close());

  it('store their expiry on the user and on the address claim', async () => {
    const before = Math.floor(Date.now() / 1000);
    const user = newRegistration();

    expect((await register(api, user)).status).toBe(201);

    const expiresAt = (await userItem(api, user.username))?.expiresAt as number;
    expect(expiresAt).toBeGreaterThanOrEqual(before + PENDING_TTL_SECONDS);
    expect(expiresAt).toBeLessThanOrEqual(before + PENDING_TTL_SECONDS + 1);
    expect((await userEmailItem(api, user.email))?.expiresAt).toBe(expiresAt);
  });

  it('keep their username until then (the address goes to whoever registers it next)', async () => {
    const first = newRegistration();
    await register(api, first);

    const sameName = await register(api, {
      ...newRegistration(),
      username: first.username,
      password: 'another password 123',
    });

    expectApiError(sameName, 409, 'USERNAME_TAKEN');
    expect(await userItem(api, first.username)).toMatchObject({ email: first.email });
  });

  it('free their username and address once expired, even before DynamoDB deletes them', async () => {
    const abandoned = newRegistration();
    await register(api, abandoned);
    await pastTheTtl();

    const sameName = await register(api, { ...newRegistration(), username: abandoned.username });
    const sameAddress = await register(api, { ...newRegistration(), email: abandoned.email });

    expect([sameName.status, sameAddress.status]).toEqual([201, 201]);
  });

  it('are no account for sign-in or the activation link once expired', async () => {
    const user = await mailedUser(api);
    await pastTheTtl();

    const login = await request(api.http)
      .post('/login')
      .send({ username: user.username, password: user.password });
    const activation = await activate(api, {
      username: user.username,
      token: user.token,
      password: user.password,
    });

    // Not 403 ACCOUNT_NOT_ACTIVATED: there is no account any more.
    expectApiError(login, 401, 'INVALID_CREDENTIALS');
    expectApiError(activation, 400, 'ACTIVATION_LINK_INVALID');
    expect((await userItem(api, user.username))?.activationStatus).toBe('MAIL_SENT');
  });

  it('stay once activated in time: the expiry is gone from the user and the address', async () => {
    const user = await mailedUser(api);

    const activation = await activate(api, {
      username: user.username,
      token: user.token,
      password: user.password,
    });
    await pastTheTtl();

    expect(activation.status).toBe(200);
    expect((await userItem(api, user.username))?.expiresAt).toBeUndefined();
    expect((await userEmailItem(api, user.email))?.expiresAt).toBeUndefined();
    // The address is an active account's now: answered like a sign-up, nothing stored.
    const stranger = { ...newRegistration(), email: user.email };
    expect((await register(api, stranger)).status).toBe(201);
    expect(await userItem(api, stranger.username)).toBeUndefined();
    const login = await request(api.http)
      .post('/login')
      .send({ username: user.username, password: user.password });
    expect(login.status).toBe(200);
  });
});
