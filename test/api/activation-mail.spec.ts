/**
 * `POST /activation-mail` over DynamoDB Local: one answer whatever the account, what each
 * kind of account gets written, the older links dying, and bad input (JSON and the page's
 * form). The mails themselves: test/e2e/mail-requests.spec.ts.
 */
import request from 'supertest';
import { claimTokenDirectly } from '../../src/activation/testing/activate-directly';
import { createTestApp, type TestApp } from '../support/test-app';
import {
  activatedUser,
  expectApiError,
  newRegistration,
  registered,
  userItem,
} from './api-helpers';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('POST /activation-mail', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await createTestApp();
  });

  afterAll(async () => {
    await api.close();
  });

  const resend = (body: object) => request(api.http).post('/activation-mail').send(body);
  /** Headers that carry no per-request value. */
  const stableHeaders = (headers: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(headers).filter(
        ([name]) =>
          !['date', 'x-request-id', 'ratelimit', 'ratelimit-policy', 'etag'].includes(name),
      ),
    );

  it('answers a pending, an active and an unknown account with the same 202, byte for byte', async () => {
    const pending = await registered(api);
    const active = await activatedUser(api);

    const answers = [
      await resend({ email: pending.email }),
      await resend({ email: active.email }),
      await resend({ email: newRegistration().email }),
      await resend({ username: newRegistration().username }),
    ];

    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 202, 202]);
    expect(new Set(answers.map((answer) => answer.text)).size).toBe(1);
    const headers = answers.map((answer) =>
      stableHeaders(answer.headers as Record<string, string>),
    );
    for (const each of headers) expect(each).toEqual(headers[0]);
  });

  it('gives a pending account a new request: back to NONE, its token gone, so the mailed link dies', async () => {
    const person = await registered(api);
    const { token } = await claimTokenDirectly(api.tables.users, person.username, {
      now: new Date(),
      tokenExpiresAt: new Date(Date.now() + 3_600_000),
      leaseExpiresAt: new Date(Date.now() + 60_000),
    });
    const before = await userItem(api, person.username);

    expect((await resend({ username: person.username.toUpperCase() })).status).toBe(202);

    const after = await userItem(api, person.username);
    expect(after).toMatchObject({ activationStatus: 'NONE', mailRequestKind: 'ACTIVATION' });
    expect(after?.mailRequestId).toMatch(UUID);
    expect(after?.mailRequestId).not.toBe(before?.mailRequestId);
    expect(after?.activationTokenHash).toBeUndefined();
    const activation = await request(api.http)
      .post('/activate')
      .send({ username: person.username, token, password: person.password });
    expectApiError(activation, 400, 'ACTIVATION_LINK_INVALID');
  });

  it('asks an "already active" notice for an active account, which stays active', async () => {
    const active = await activatedUser(api);

    expect((await resend({ email: active.email.toUpperCase() })).status).toBe(202);

    expect(await userItem(api, active.username)).toMatchObject({
      activationStatus: 'DONE',
      mailRequestKind: 'ALREADY_ACTIVE',
    });
  });

  it.each([
    ['no field', {}, 'email'],
    ['an address that is none', { email: 'not an address' }, 'email'],
    ['a number', { email: 42 }, 'email'],
    ['a username that breaks the rules', { username: 'a' }, 'username'],
    ['an unknown field', { email: 'a@example.org', admin: true }, 'admin'],
  ])('refuses %s with 400 VALIDATION_FAILED, naming the field', async (_case, body, field) => {
    const response = await resend(body);

    expectApiError(response, 400, 'VALIDATION_FAILED');
    expect((response.body as { errors: { field: string }[] }).errors.map((e) => e.field)).toContain(
      field,
    );
  });

  it('answers the page\'s form with the "Check your inbox" page, and a bad address with the form again', async () => {
    const form = (body: string) =>
      request(api.http).post('/activation-mail').type('form').send(body);

    const accepted = await form(`email=${encodeURIComponent(newRegistration().email)}`);
    const refused = await form('email=%3Cscript%3E');

    expect(accepted.status).toBe(202);
    expect(accepted.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(accepted.text).toContain('<h1>Check your inbox</h1>');
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('<h1>Get a new activation mail</h1>');
    expect(refused.text).toContain('<form method="post" action="activation-mail">');
    expect(refused.text).not.toContain('<script>');
  });
});
