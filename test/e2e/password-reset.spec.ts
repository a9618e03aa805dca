/**
 * The password reset and the password change, end to end over the real pipeline (a write
 * to DynamoDB Local, its stream, the trigger, the state machine, the local SES): request →
 * inbox → link → new password; old password refused, new accepted, earlier sessions
 * dead, the notice in the inbox; and the ways a link dies.
 */
import type { Server } from 'node:http';
import request from 'supertest';
import {
  ACCOUNT_NOTICE_SUBJECTS,
  ACTIVATION_MAIL_SUBJECT,
  PASSWORD_RESET_MAIL_SUBJECT,
} from '../../src/activation';
import type { StoredMail } from '../../src/workers/local-ses';
import { newRegistration, type Registration, SESSION_COOKIE, setCookie } from '../api/api-helpers';
import {
  activationLinkIn,
  type PipelineHarness,
  passwordResetLinkIn,
  startPipelineHarness,
} from './pipeline-harness';

const CHANGED = ACCOUNT_NOTICE_SUBJECTS.PASSWORD_CHANGED;
const NEW_PASSWORD = 'a brand new passphrase';

describe('password reset and change, through the pipeline', () => {
  let system: PipelineHarness;
  let http: Server;

  beforeAll(async () => {
    system = await startPipelineHarness();
    http = system.app.getHttpServer() as Server;
  });

  afterAll(async () => {
    await system?.close();
  });

  const register = (body: Registration) => request(http).post('/users').send(body);
  const requestReset = (body: object) => request(http).post('/password-reset').send(body);
  const resetWith = (link: URL, password: string) =>
    request(http)
      .post('/password-reset/new')
      .set('Accept', 'application/json')
      .send({
        username: link.searchParams.get('username'),
        token: link.searchParams.get('token'),
        password,
      });
  const activate = (link: URL, password: string) =>
    request(http)
      .post('/activate')
      .set('Accept', 'application/json')
      .send({
        username: link.searchParams.get('username'),
        token: link.searchParams.get('token'),
        password,
      });
  const login = (username: string, password: string) =>
    request(http).post('/login').send({ username, password });
  const withSession = (call: request.Test, session: string) =>
    call.set('Cookie', `${SESSION_COOKIE}=${session}`);
  const me = (session: string) => withSession(request(http).get('/users/me'), session);

  async function settledMailsTo(address: string): Promise<StoredMail[]> {
    await system.stack.pipeline.settled();
    return system.mailsTo(address);
  }
  const subjects = (mails: StoredMail[]) => mails.map((mail) => mail.subject);

  async function activeAccount(): Promise<Registration> {
    const account = newRegistration();
    expect((await register(account)).status).toBe(201);
    const link = activationLinkIn(await system.waitForMail(account.email));
    expect((await activate(link, account.password)).status).toBe(200);
    return account;
  }

  async function signIn(account: Registration, password = account.password): Promise<string> {
    const response = await login(account.username, password);
    expect(response.status).toBe(200);
    return setCookie(response, SESSION_COOKIE)!.value;
  }

  /** Asks for a reset and waits for its mail (the `nth` reset mail to the address). */
  async function resetLink(account: Registration, nth = 1): Promise<URL> {
    expect((await requestReset({ email: account.email })).status).toBe(202);
    const mails = await settledMailsTo(account.email);
    const resets = mails.filter((mail) => mail.subject === PASSWORD_RESET_MAIL_SUBJECT);
    expect(resets).toHaveLength(nth);
    return passwordResetLinkIn(resets[nth - 1]!);
  }

  it('the whole reset: mail, link, new password; the old one refused, both sessions dead, the notice sent', async () => {
    const account = await activeAccount();
    const [laptop, phone] = [await signIn(account), await signIn(account)];
    expect((await me(laptop)).status).toBe(200);

    const link = await resetLink(account);
    const page = await request(http).get(`${link.pathname}${link.search}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Choose a new password');
    const reset = await resetWith(link, NEW_PASSWORD);

    expect(reset.status).toBe(200);
    expect(reset.body).toEqual({ username: account.username, passwordChanged: true });
    // Not signed in by the reset.
    expect(setCookie(reset, SESSION_COOKIE)).toBeUndefined();
    expect((await me(laptop)).status).toBe(401);
    expect((await me(phone)).status).toBe(401);
    expect((await login(account.username, account.password)).status).toBe(401);
    expect((await me(await signIn(account, NEW_PASSWORD))).status).toBe(200);
    expect(subjects(await settledMailsTo(account.email))).toEqual([
      ACTIVATION_MAIL_SUBJECT,
      PASSWORD_RESET_MAIL_SUBJECT,
      CHANGED,
    ]);
  });

  it('a used link fails, and so does a second POST of it at once: one of two racing POSTs wins', async () => {
    const account = await activeAccount();
    const link = await resetLink(account);

    const racing = await Promise.all([
      resetWith(link, NEW_PASSWORD),
      resetWith(link, 'another new passphrase'),
    ]);
    const later = await resetWith(link, 'a third new passphrase');

    expect(racing.map((response) => response.status).sort()).toEqual([200, 400]);
    expect(later.status).toBe(400);
    expect(later.body.code).toBe('PASSWORD_RESET_LINK_INVALID');
    const winner = racing[0]!.status === 200 ? NEW_PASSWORD : 'another new passphrase';
    expect((await login(account.username, winner)).status).toBe(200);
    expect(subjects(await settledMailsTo(account.email)).filter((s) => s === CHANGED)).toHaveLength(
      1,
    );
  });

  it('a second request kills the first link; the second one works', async () => {
    const account = await activeAccount();
    const first = await resetLink(account);
    // The mail budget's cooldown is per identifier: the second request asks by username.
    expect((await requestReset({ username: account.username })).status).toBe(202);
    const resets = (await settledMailsTo(account.email)).filter(
      (mail) => mail.subject === PASSWORD_RESET_MAIL_SUBJECT,
    );
    expect(resets).toHaveLength(2);
    const second = passwordResetLinkIn(resets[1]!);

    expect((await resetWith(first, NEW_PASSWORD)).status).toBe(400);
    expect((await resetWith(second, NEW_PASSWORD)).status).toBe(200);
  });

  it('a reset link dies when the password is changed another way (signed in)', async () => {
    const account = await activeAccount();
    const link = await resetLink(account);
    const session = await signIn(account);

    const change = await withSession(request(http).post('/users/me/password'), session).send({
      currentPassword: account.password,
      newPassword: NEW_PASSWORD,
    });

    expect(change.status).toBe(200);
    expect((await resetWith(link, 'yet another passphrase')).status).toBe(400);
    expect((await login(account.username, NEW_PASSWORD)).status).toBe(200);
  });

  it('changing the password signed in ends the other session, keeps this browser signed in, and sends the notice', async () => {
    const account = await activeAccount();
    const [first, second] = [await signIn(account), await signIn(account)];

    const change = await withSession(request(http).post('/users/me/password'), second).send({
      currentPassword: account.password,
      newPassword: NEW_PASSWORD,
    });

    expect(change.status).toBe(200);
    const fresh = setCookie(change, SESSION_COOKIE)!.value;
    expect(fresh).not.toBe(second);
    expect((await me(first)).status).toBe(401);
    expect((await me(second)).status).toBe(401);
    expect((await me(fresh)).status).toBe(200);
    expect(subjects(await settledMailsTo(account.email))).toEqual([
      ACTIVATION_MAIL_SUBJECT,
      CHANGED,
    ]);
  });

  it('a pending account: the reset activates it (the mailbox is proven, the password is new)', async () => {
    const squatted = newRegistration();
    expect((await register(squatted)).status).toBe(201);
    await system.waitForMail(squatted.email);

    const link = await resetLink(squatted);
    expect((await resetWith(link, NEW_PASSWORD)).status).toBe(200);

    const user = await system.tables.users.findByUsername(squatted.username);
    expect(user).toMatchObject({ activationStatus: 'DONE' });
    expect(user?.expiresAt).toBeUndefined();
    expect((await login(squatted.username, squatted.password)).status).toBe(401);
    expect((await login(squatted.username, NEW_PASSWORD)).status).toBe(200);
  });

  it('an unknown address gets the same 202 and no mail at all', async () => {
    const known = await activeAccount();
    const unknown = newRegistration();

    const [a, b] = [
      await requestReset({ email: known.email }),
      await requestReset({ email: unknown.email }),
    ];

    expect(b.status).toBe(a.status);
    expect(b.body).toEqual(a.body);
    expect(await settledMailsTo(unknown.email)).toEqual([]);
  });

  it('sign out everywhere ends every session of the account, and only of that account', async () => {
    const account = await activeAccount();
    const other = await activeAccount();
    const [first, second, others] = [
      await signIn(account),
      await signIn(account),
      await signIn(other),
    ];

    const response = await withSession(request(http).post('/logout/all'), first);

    expect(response.status).toBe(204);
    expect((await me(first)).status).toBe(401);
    expect((await me(second)).status).toBe(401);
    expect((await me(others)).status).toBe(200);
    expect((await me(await signIn(account))).status).toBe(200);
  });
});
