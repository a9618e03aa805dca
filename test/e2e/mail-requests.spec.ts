/**
 * Every mail a sign-up or a resend asks for, end to end over the real pipeline (a write to
 * DynamoDB Local, its stream, the trigger, the state machine, the local SES): which
 * mails each case of issue 12's table produces, which links still work afterwards, and
 * that nothing is ever sent twice for one request.
 */
import type { Server } from 'node:http';
import request from 'supertest';
import {
  ACCOUNT_NOTICE_SUBJECTS,
  ACTIVATION_MAIL_SUBJECT,
  type AccountNoticeKind,
} from '../../src/activation';
import type { StoredMail } from '../../src/workers/local-ses';
import { newRegistration, type Registration } from '../api/api-helpers';
import { activationLinkIn, type PipelineHarness, startPipelineHarness } from './pipeline-harness';

describe('mail requests, through the pipeline', () => {
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
  const resend = (body: object) => request(http).post('/activation-mail').send(body);
  const activate = (link: URL, password: string) =>
    request(http)
      .post('/activate')
      .set('Accept', 'application/json')
      .send({
        username: link.searchParams.get('username'),
        token: link.searchParams.get('token'),
        password,
      });
  /** Every mail to `address` once the pipeline has nothing left to do. */
  async function settledMailsTo(address: string): Promise<StoredMail[]> {
    await system.stack.pipeline.settled();
    return system.mailsTo(address);
  }
  const subjects = (mails: StoredMail[]) => mails.map((mail) => mail.subject);
  const notice = (kind: AccountNoticeKind) => ACCOUNT_NOTICE_SUBJECTS[kind];

  async function activeAccount(): Promise<Registration> {
    const account = newRegistration();
    expect((await register(account)).status).toBe(201);
    const link = activationLinkIn(await system.waitForMail(account.email));
    expect((await activate(link, account.password)).status).toBe(200);
    return account;
  }

  it('new username, new address: 201 and one activation mail', async () => {
    const person = newRegistration();

    expect((await register(person)).status).toBe(201);

    expect(subjects(await settledMailsTo(person.email))).toEqual([ACTIVATION_MAIL_SUBJECT]);
  });

  it("an active account's address: the same 201, nothing stored, one notice to the owner (and none again within the hour)", async () => {
    const owner = await activeAccount();
    const stranger = { ...newRegistration(), email: owner.email.toUpperCase() };
    const control = newRegistration();

    const [attempt, success, again] = [
      await register(stranger),
      await register(control),
      await register({ ...newRegistration(), email: owner.email }),
    ];

    expect(attempt.status).toBe(201);
    expect(again.status).toBe(201);
    expect(Object.keys(attempt.body as object).sort()).toEqual(
      Object.keys(success.body as object).sort(),
    );
    expect(await system.tables.users.findByUsername(stranger.username)).toBeUndefined();
    expect(subjects(await settledMailsTo(owner.email))).toEqual([
      ACTIVATION_MAIL_SUBJECT,
      notice('SIGN_UP_ATTEMPT'),
    ]);
  });

  it("a pending account's address: that account is replaced, its link dies, the new registrant gets one mail", async () => {
    const squatter = newRegistration();
    expect((await register(squatter)).status).toBe(201);
    const squattersLink = activationLinkIn(await system.waitForMail(squatter.email));
    const owner = { ...newRegistration(), email: squatter.email };

    expect((await register(owner)).status).toBe(201);

    const mails = await settledMailsTo(owner.email);
    expect(mails).toHaveLength(2);
    expect(await system.tables.users.findByUsername(squatter.username)).toBeUndefined();
    expect((await activate(squattersLink, squatter.password)).status).toBe(400);
    expect(activationLinkIn(mails[1]!).searchParams.get('username')).toBe(owner.username);
    expect((await activate(activationLinkIn(mails[1]!), owner.password)).status).toBe(200);
  });

  it('the typo fix: a pending username with its own password moves to the new address, one mail there, the old link dead', async () => {
    const typo = newRegistration();
    expect((await register(typo)).status).toBe(201);
    const oldLink = activationLinkIn(await system.waitForMail(typo.email));
    const fixed = { ...typo, email: `fixed.${typo.email}`, name: 'Fixed Name' };

    const response = await register(fixed);

    expect(response.status).toBe(201);
    const mails = await settledMailsTo(fixed.email);
    expect(subjects(mails)).toEqual([ACTIVATION_MAIL_SUBJECT]);
    expect(await system.mailsTo(typo.email)).toHaveLength(1);
    expect((await activate(oldLink, typo.password)).status).toBe(400);
    expect((await activate(activationLinkIn(mails[0]!), typo.password)).status).toBe(200);
  });

  it('a pending username with another password, and an active username: 409, no mail', async () => {
    const pending = newRegistration();
    expect((await register(pending)).status).toBe(201);
    const active = await activeAccount();
    const intruders = [
      { ...newRegistration(), username: pending.username, password: 'not the owners password' },
      { ...newRegistration(), username: active.username },
    ];

    const statuses = [
      (await register(intruders[0]!)).status,
      (await register(intruders[1]!)).status,
    ];

    expect(statuses).toEqual([409, 409]);
    for (const intruder of intruders) {
      expect(await settledMailsTo(intruder.email)).toEqual([]);
    }
    expect(await system.mailsTo(pending.email)).toHaveLength(1);
  });

  it('resend: a pending account gets a new mail whose link works, and every older link dies', async () => {
    const person = newRegistration();
    expect((await register(person)).status).toBe(201);
    const first = activationLinkIn(await system.waitForMail(person.email));

    // One after the other: a request made before the previous one's mail went out
    // replaces that request, as the in-flight case below shows.
    const answers = [];
    for (const body of [{ email: person.email }, { username: person.username.toUpperCase() }]) {
      const before = (await settledMailsTo(person.email)).length;
      answers.push(await resend(body));
      expect((await settledMailsTo(person.email)).length).toBe(before + 1);
    }

    const mails = await settledMailsTo(person.email);
    expect(answers.map((answer) => answer.status)).toEqual([202, 202]);
    expect(subjects(mails)).toEqual([
      ACTIVATION_MAIL_SUBJECT,
      ACTIVATION_MAIL_SUBJECT,
      ACTIVATION_MAIL_SUBJECT,
    ]);
    const [, second, third] = mails.map(activationLinkIn);
    expect((await activate(first, person.password)).status).toBe(400);
    expect((await activate(second!, person.password)).status).toBe(400);
    expect((await activate(third!, person.password)).status).toBe(200);
  });

  it('resend: an active account gets an "already active" notice; an unknown one nothing, with the same answer', async () => {
    const active = await activeAccount();
    const unknown = newRegistration();

    const [forActive, forUnknown] = [
      await resend({ email: active.email }),
      await resend({ email: unknown.email }),
    ];

    expect(forActive.status).toBe(202);
    expect(forUnknown.status).toBe(202);
    expect(forUnknown.body).toEqual(forActive.body);
    expect(subjects(await settledMailsTo(active.email))).toEqual([
      ACTIVATION_MAIL_SUBJECT,
      notice('ALREADY_ACTIVE'),
    ]);
    expect(await system.mailsTo(unknown.email)).toEqual([]);
  });

  it('resend while the first mail is in flight: one mail per request at most, and only the last link works', async () => {
    const person = newRegistration();

    expect((await register(person)).status).toBe(201);
    expect((await resend({ email: person.email })).status).toBe(202);

    const mails = await settledMailsTo(person.email);
    // The first request is mailed, or replaced by the resend before its mail was claimed.
    expect(mails.length).toBeGreaterThanOrEqual(1);
    expect(mails.length).toBeLessThanOrEqual(2);
    const links = mails.map(activationLinkIn);
    const last = links.pop()!;
    for (const link of links) expect((await activate(link, person.password)).status).toBe(400);
    expect((await activate(last, person.password)).status).toBe(200);
  });
});
