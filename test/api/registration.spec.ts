/**
 * POST /users: what a successful registration answers and stores, uniqueness of username
 * and email (also under concurrency), and that a failed registration leaves nothing behind.
 * Sign-up reveals no address: an active account's address is answered like a success
 * (nothing stored, its owner is asked a notice), a pending account's is taken over, and
 * the pending account's own password fixes a typo. Only a taken username is a 409.
 */
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import request, { type Response } from 'supertest';
import {
  emailKey,
  MAIL_REQUEST_ID_PATTERN,
  SIGN_UP_NOTICE_QUIET_SECONDS,
} from '../../src/activation';
import { claimTokenDirectly } from '../../src/activation/testing/activate-directly';
import { USER_EMAIL_KEY, USER_KEY } from '../../src/users/persistence/user-tables';
import { createTestApp, type TestApp } from '../support/test-app';
import {
  activatedUser,
  allItems,
  expectApiError,
  mailedUser,
  newRegistration,
  type Registration,
  register,
  registered,
  userEmailItem,
  userItem,
} from './api-helpers';

const ANOTHER_PASSWORD = 'another password entirely';
const ISO_INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const PENDING_TTL_SECONDS = 7 * 24 * 3600;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a registration answers, whatever was stored: the account as registered. */
function expectAnsweredAsRegistered(response: Response, registration: Registration): void {
  expect(response.status).toBe(201);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(response.body).toEqual({
    username: registration.username.trim().toLowerCase(),
    email: registration.email.trim(),
    name: registration.name.trim(),
    activationStatus: 'NONE',
  });
}

const activate = (api: TestApp, body: Record<string, string>) =>
  request(api.http).post('/activate').set('Accept', 'application/json').send(body);

describe('POST /users', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await createTestApp();
  });
  afterAll(() => api.close());

  describe('a valid registration', () => {
    it('answers 201 with the public user in status NONE', async () => {
      const registration = newRegistration();

      const response = await register(api, registration);

      expect(response.status).toBe(201);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.body).toEqual({
        username: registration.username,
        email: registration.email,
        name: registration.name,
        activationStatus: 'NONE',
      });
    });

    it('stores the user item with every attribute', async () => {
      const registration = newRegistration();
      const before = Date.now();

      await register(api, registration);

      const item = await userItem(api, registration.username);
      expect(item).toEqual({
        username: registration.username,
        email: registration.email,
        name: registration.name,
        passwordHash: expect.stringMatching(
          /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/,
        ),
        activationStatus: 'NONE',
        activationUrlBase: 'http://cards.test/activate',
        createdAt: expect.stringMatching(ISO_INSTANT),
        expiresAt: expect.any(Number),
        // The open request whose stream record starts the activation mail.
        mailRequestId: expect.stringMatching(MAIL_REQUEST_ID_PATTERN),
        mailRequestKind: 'ACTIVATION',
      });
      const createdAt = Date.parse(item!.createdAt as string);
      // Pending for PENDING_ACCOUNT_TTL_SECONDS (7 days by default), then gone.
      expect(item!.expiresAt).toBe(Math.floor(createdAt / 1000) + PENDING_TTL_SECONDS);
      expect(createdAt).toBeGreaterThanOrEqual(before - 1000);
      expect(createdAt).toBeLessThanOrEqual(Date.now() + 1000);
    });

    it('stores a salted hash, never the password itself', async () => {
      const first = newRegistration({ password: 'the same password' });
      const second = newRegistration({ password: 'the same password' });

      await register(api, first);
      await register(api, second);

      const [firstItem, secondItem] = [
        await userItem(api, first.username),
        await userItem(api, second.username),
      ];
      expect(JSON.stringify(firstItem)).not.toContain(first.password);
      expect(firstItem!.passwordHash).not.toEqual(secondItem!.passwordHash);
    });

    it('never shows the password or its hash in the response', async () => {
      const registration = newRegistration({ password: 'a very secret passphrase' });

      const response = await register(api, registration);

      expect(response.status).toBe(201);
      expect(response.text).not.toContain(registration.password);
      expect(response.text).not.toMatch(/argon2|passwordHash|activationUrlBase/);
    });

    it('claims the lower-cased email in the UserEmail table for the username', async () => {
      const registration = newRegistration();
      const email = `Mixed.Case-${registration.username}@Example.ORG`;

      await register(api, { ...registration, email });

      expect(await userEmailItem(api, email.toLowerCase())).toEqual({
        email: email.toLowerCase(),
        username: registration.username,
        expiresAt: expect.any(Number),
      });
      expect(await userEmailItem(api, email)).toBeUndefined();
    });

    it('stores the email as typed, only trimmed', async () => {
      const registration = newRegistration();
      const email = `Ann.Smith-${registration.username}@Example.org`;

      const response = await register(api, { ...registration, email: `  ${email}\t` });

      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({ email });
      expect(await userItem(api, registration.username)).toMatchObject({ email });
    });

    it('stores the username trimmed and in lower case', async () => {
      const registration = newRegistration();

      const response = await register(api, {
        ...registration,
        username: `  ${registration.username.toUpperCase()} `,
      });

      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({ username: registration.username });
      expect(await userItem(api, registration.username)).toMatchObject({
        username: registration.username,
      });
      expect(await userItem(api, registration.username.toUpperCase())).toBeUndefined();
    });

    it('stores the name in NFC and trimmed, keeping its letter case', async () => {
      const registration = newRegistration({ name: '  Zoe\u0308 McCARTHY ' });

      const response = await register(api, registration);

      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({ name: 'Zo\u00eb McCARTHY' });
      expect(await userItem(api, registration.username)).toMatchObject({
        name: 'Zo\u00eb McCARTHY',
      });
    });
  });

  describe('the activation link base', () => {
    it('comes from configuration, not from a forged Host or X-Forwarded-* header', async () => {
      const registration = newRegistration();

      const response = await request(api.http)
        .post('/users')
        .set('Host', 'evil.example')
        .set('X-Forwarded-Host', 'evil.example')
        .set('X-Forwarded-Proto', 'https')
        .set('Forwarded', 'host=evil.example;proto=https')
        .send(registration);

      expect(response.status).toBe(201);
      expect(await userItem(api, registration.username)).toMatchObject({
        activationUrlBase: 'http://cards.test/activate',
      });
    });

    it('cannot be set through the body', async () => {
      const registration = newRegistration();

      const response = await register(api, {
        ...registration,
        activationUrlBase: 'https://evil.example/activate',
      });

      expectApiError(response, 400, 'VALIDATION_FAILED');
      expect(await userItem(api, registration.username)).toBeUndefined();
    });
  });

  /** Sets the expiry of a pending account and of its address claim, as time passing would. */
  async function setExpiry(user: Registration, expiresAt: number): Promise<void> {
    const { users, userEmails } = api.config.dynamodb.tables;
    await api.tables.documentClient.send(
      new UpdateCommand({
        TableName: users,
        Key: { [USER_KEY]: user.username },
        UpdateExpression: 'SET expiresAt = :expiresAt',
        ExpressionAttributeValues: { ':expiresAt': expiresAt },
      }),
    );
    await api.tables.documentClient.send(
      new UpdateCommand({
        TableName: userEmails,
        Key: { [USER_EMAIL_KEY]: emailKey(user.email) },
        UpdateExpression: 'SET expiresAt = :expiresAt',
        ExpressionAttributeValues: { ':expiresAt': expiresAt },
      }),
    );
  }

  const nowSeconds = () => Math.floor(Date.now() / 1000);

  describe('a taken username', () => {
    it.each([
      ['another address', () => ({})],
      ['the account’s own address', (first: Registration) => ({ email: first.email })],
    ])(
      'of a pending account with another password is refused with 409 USERNAME_TAKEN, with %s, leaving the first user as it was',
      async (_case, address) => {
        const first = await registered(api);
        const before = await userItem(api, first.username);
        const second = newRegistration({
          username: first.username,
          name: 'Someone Else',
          password: ANOTHER_PASSWORD,
          ...address(first),
        });

        const response = await register(api, second);

        expectApiError(response, 409, 'USERNAME_TAKEN');
        expect(await userItem(api, first.username)).toEqual(before);
      },
    );

    it('is refused in another letter case too', async () => {
      await registered(api, { username: 'alice' });

      const response = await register(
        api,
        newRegistration({ username: 'Alice', password: ANOTHER_PASSWORD }),
      );

      expectApiError(response, 409, 'USERNAME_TAKEN');
    });

    it('leaves no UserEmail item for the new email', async () => {
      const first = await registered(api);
      const second = newRegistration({
        username: first.username.toUpperCase(),
        password: ANOTHER_PASSWORD,
      });

      const response = await register(api, second);

      expect(response.status).toBe(409);
      expect(await userEmailItem(api, second.email.toLowerCase())).toBeUndefined();
    });

    it('of an active account is refused with 409 USERNAME_TAKEN even with its own password, writing nothing', async () => {
      const owner = await activatedUser(api);
      const before = await userItem(api, owner.username);

      const response = await register(api, owner);

      expectApiError(response, 409, 'USERNAME_TAKEN');
      // No notice either: the address was not what answered.
      expect(await userItem(api, owner.username)).toEqual(before);
      expect(await userEmailItem(api, emailKey(owner.email))).toEqual({
        email: emailKey(owner.email),
        username: owner.username,
      });
    });

    it('of an active account is refused with 409 USERNAME_TAKEN with another password and address', async () => {
      const owner = await activatedUser(api);
      const before = await userItem(api, owner.username);
      const second = newRegistration({ username: owner.username, password: ANOTHER_PASSWORD });

      const response = await register(api, second);

      expectApiError(response, 409, 'USERNAME_TAKEN');
      expect(await userItem(api, owner.username)).toEqual(before);
      expect(await userEmailItem(api, emailKey(second.email))).toBeUndefined();
    });
  });

  describe('the typo fix: a pending account’s username with its own password', () => {
    it('updates the same item: address, name, a new request, NONE, no token, expiry renewed', async () => {
      const { token: _token, ...first } = await mailedUser(api);
      // As if registered a while ago: the fix gives it a full pending time again.
      await setExpiry(first, nowSeconds() + 60);
      const before = (await userItem(api, first.username))!;
      const fixed = { ...first, email: `fixed-${first.email}`, name: 'Ada King' };
      const start = nowSeconds();

      const response = await register(api, fixed);

      expectAnsweredAsRegistered(response, fixed);
      const {
        activationTokenHash,
        activationTokenExpiresAt: _tokenEnd,
        mailClaimId: _claim,
        mailClaimExpiresAt: _lease,
        ...kept
      } = before;
      expect(activationTokenHash).toEqual(expect.any(String));
      const item = (await userItem(api, first.username))!;
      expect(item).toEqual({
        ...kept,
        email: fixed.email,
        name: 'Ada King',
        activationStatus: 'NONE',
        // Its own hash (Argon2id is salted: a new hash of the same password would differ).
        passwordHash: before.passwordHash,
        createdAt: expect.stringMatching(ISO_INSTANT),
        expiresAt: expect.any(Number),
        mailRequestId: expect.stringMatching(MAIL_REQUEST_ID_PATTERN),
        mailRequestKind: 'ACTIVATION',
      });
      expect(item.mailRequestId).not.toBe(before.mailRequestId);
      expect(item.expiresAt).toBeGreaterThanOrEqual(start + PENDING_TTL_SECONDS);
      expect(item.expiresAt).toBeLessThanOrEqual(nowSeconds() + PENDING_TTL_SECONDS);
    });

    it('moves the claim: the old address is free, the new one is the account’s', async () => {
      const first = await registered(api);
      const fixed = { ...first, email: `Fixed-${first.email}` };

      const response = await register(api, fixed);

      expect(response.status).toBe(201);
      const item = await userItem(api, first.username);
      expect(await userEmailItem(api, emailKey(first.email))).toBeUndefined();
      expect(await userEmailItem(api, emailKey(fixed.email))).toEqual({
        email: emailKey(fixed.email),
        username: first.username,
        expiresAt: item!.expiresAt,
      });
      // The old address can be registered by anyone, as new.
      expect((await register(api, newRegistration({ email: first.email }))).status).toBe(201);
      expect(await userEmailItem(api, emailKey(first.email))).toMatchObject({
        username: expect.not.stringMatching(first.username),
      });
    });

    it('keeps its own address (a new name only), the claim renewed with the new expiry', async () => {
      const first = await registered(api);
      await setExpiry(first, nowSeconds() + 60);

      const response = await register(api, { ...first, name: 'Ada King' });

      expect(response.status).toBe(201);
      const item = (await userItem(api, first.username))!;
      expect(item).toMatchObject({ email: first.email, name: 'Ada King' });
      expect(item.expiresAt).toBeGreaterThan(nowSeconds() + 60);
      expect(await userEmailItem(api, emailKey(first.email))).toEqual({
        email: emailKey(first.email),
        username: first.username,
        expiresAt: item.expiresAt,
      });
    });

    it('kills the link mailed before the fix', async () => {
      const { token, ...first } = await mailedUser(api);

      const fix = await register(api, { ...first, email: `fixed-${first.email}` });
      const activation = await activate(api, {
        username: first.username,
        token,
        password: first.password,
      });

      expect(fix.status).toBe(201);
      expectApiError(activation, 400, 'ACTIVATION_LINK_INVALID');
      expect(await userItem(api, first.username)).toMatchObject({ activationStatus: 'NONE' });
    });
  });

  describe('an expired pending account', () => {
    it('leaves its username free: registered as new, whatever the password', async () => {
      const abandoned = await registered(api);
      await setExpiry(abandoned, nowSeconds() - 1);
      const before = await userItem(api, abandoned.username);
      const second = newRegistration({ username: abandoned.username, password: ANOTHER_PASSWORD });

      const response = await register(api, second);

      expectAnsweredAsRegistered(response, second);
      const item = (await userItem(api, abandoned.username))!;
      expect(item).toMatchObject({ email: second.email, activationStatus: 'NONE' });
      expect(item.passwordHash).not.toBe(before!.passwordHash);
      expect(item.mailRequestId).not.toBe(before!.mailRequestId);
      expect(item.expiresAt).toBeGreaterThanOrEqual(nowSeconds() - 1 + PENDING_TTL_SECONDS);
      expect(await userEmailItem(api, emailKey(second.email))).toEqual({
        email: emailKey(second.email),
        username: abandoned.username,
        expiresAt: item.expiresAt,
      });
    });

    it('leaves its address free: the new account claims it', async () => {
      const abandoned = await registered(api);
      await setExpiry(abandoned, nowSeconds() - 1);
      const second = newRegistration({ email: abandoned.email });

      const response = await register(api, second);

      expectAnsweredAsRegistered(response, second);
      const item = await userItem(api, second.username);
      expect(item).toMatchObject({ email: abandoned.email, activationStatus: 'NONE' });
      expect(await userEmailItem(api, emailKey(abandoned.email))).toEqual({
        email: emailKey(abandoned.email),
        username: second.username,
        expiresAt: item!.expiresAt,
      });
    });
  });

  describe('the address of an active account', () => {
    it('is answered 201 exactly like a success, in another letter case, without echoing the address', async () => {
      const owner = await activatedUser(api, { name: 'Owner Of The Address' });
      const second = newRegistration({ email: owner.email.toUpperCase() });
      const success = await register(api, newRegistration());

      const response = await register(api, second);

      expectAnsweredAsRegistered(response, second);
      expect(Object.keys(response.body)).toEqual(Object.keys(success.body));
      expect(response.headers['content-type']).toBe(success.headers['content-type']);
      // Nothing of the owner's account: not its username, not its name.
      expect(response.body.username).toBe(second.username);
      expect(response.text).not.toContain(owner.name);
    });

    it('is answered alike when it differs only in Unicode composition (NFC) and letter case', async () => {
      const local = newRegistration().username;
      const owner = await activatedUser(api, { email: `${local}@zoe\u0308.example` });
      const second = newRegistration({ email: `${local}@ZO\u00cb.example` });

      const response = await register(api, second);

      expectAnsweredAsRegistered(response, second);
      expect(await userItem(api, second.username)).toBeUndefined();
      expect(await userItem(api, owner.username)).toMatchObject({
        mailRequestKind: 'SIGN_UP_ATTEMPT',
      });
    });

    it('leaves no User item for the new username, and the owner’s claim as it was', async () => {
      const owner = await activatedUser(api);
      const second = newRegistration({ email: ` ${owner.email.toUpperCase()} ` });

      const response = await register(api, second);

      expect(response.status).toBe(201);
      expect(await userItem(api, second.username)).toBeUndefined();
      expect(await userEmailItem(api, owner.email.toLowerCase())).toEqual({
        email: owner.email.toLowerCase(),
        username: owner.username,
      });
    });

    it('asks for a SIGN_UP_ATTEMPT notice on the owner’s item, changing nothing else of it', async () => {
      const owner = await activatedUser(api);
      const before = await userItem(api, owner.username);
      const start = new Date().toISOString();

      await register(api, newRegistration({ email: owner.email }));

      const item = (await userItem(api, owner.username))!;
      expect(item).toEqual({
        ...before,
        mailRequestId: expect.stringMatching(MAIL_REQUEST_ID_PATTERN),
        mailRequestKind: 'SIGN_UP_ATTEMPT',
        signUpNoticeRequestedAt: expect.stringMatching(ISO_INSTANT),
      });
      expect(String(item.signUpNoticeRequestedAt) >= start).toBe(true);
      expect(String(item.signUpNoticeRequestedAt) <= new Date().toISOString()).toBe(true);
    });

    it(`asks at most once per ${SIGN_UP_NOTICE_QUIET_SECONDS} s: a second attempt writes nothing, answered alike`, async () => {
      const owner = await activatedUser(api);
      await register(api, newRegistration({ email: owner.email }));
      const afterFirst = await userItem(api, owner.username);
      const second = newRegistration({ email: owner.email });

      const response = await register(api, second);

      expectAnsweredAsRegistered(response, second);
      expect(await userItem(api, owner.username)).toEqual(afterFirst);
      expect(await userItem(api, second.username)).toBeUndefined();
    });

    it('asks again once the quiet period is over, with a new request', async () => {
      const owner = await activatedUser(api);
      await register(api, newRegistration({ email: owner.email }));
      const longAgo = new Date(Date.now() - (SIGN_UP_NOTICE_QUIET_SECONDS + 1) * 1000);
      await api.tables.documentClient.send(
        new UpdateCommand({
          TableName: api.config.dynamodb.tables.users,
          Key: { [USER_KEY]: owner.username },
          UpdateExpression: 'SET signUpNoticeRequestedAt = :then',
          ExpressionAttributeValues: { ':then': longAgo.toISOString() },
        }),
      );
      const first = (await userItem(api, owner.username))!;

      const response = await register(api, newRegistration({ email: owner.email }));

      expect(response.status).toBe(201);
      const item = (await userItem(api, owner.username))!;
      expect(item).toEqual({
        ...first,
        mailRequestId: expect.stringMatching(MAIL_REQUEST_ID_PATTERN),
        signUpNoticeRequestedAt: expect.stringMatching(ISO_INSTANT),
      });
      expect(item.mailRequestId).not.toBe(first.mailRequestId);
      expect(String(item.signUpNoticeRequestedAt) > longAgo.toISOString()).toBe(true);
    });

    it('leaves the username free: it can then be registered with an address of its own', async () => {
      const owner = await activatedUser(api);
      const attempt = newRegistration({ email: owner.email });
      await register(api, attempt);

      const retry = await register(api, { ...attempt, email: newRegistration().email });

      expect(retry.status).toBe(201);
      expect(await userItem(api, attempt.username)).toMatchObject({ activationStatus: 'NONE' });
    });
  });

  describe('the address of a pending account', () => {
    it('is taken over, in another letter case: that account is deleted, its claim is the new user’s', async () => {
      const first = await registered(api);
      const second = newRegistration({ email: first.email.toUpperCase() });

      const response = await register(api, second);

      expectAnsweredAsRegistered(response, second);
      expect(await userItem(api, first.username)).toBeUndefined();
      const item = await userItem(api, second.username);
      expect(item).toMatchObject({
        email: second.email,
        activationStatus: 'NONE',
        mailRequestId: expect.stringMatching(MAIL_REQUEST_ID_PATTERN),
        mailRequestKind: 'ACTIVATION',
      });
      expect(await userEmailItem(api, first.email.toLowerCase())).toEqual({
        email: first.email.toLowerCase(),
        username: second.username,
        expiresAt: item!.expiresAt,
      });
    });

    it('is taken over from an account that was mailed its link, whose link then activates nothing', async () => {
      const first = await mailedUser(api);
      const second = newRegistration({ email: first.email });

      const response = await register(api, second);
      const activation = await activate(api, {
        username: first.username,
        token: first.token,
        password: first.password,
      });

      expectAnsweredAsRegistered(response, second);
      expectApiError(activation, 400, 'ACTIVATION_LINK_INVALID');
      expect(await userItem(api, first.username)).toBeUndefined();
      expect(await userEmailItem(api, emailKey(first.email))).toMatchObject({
        username: second.username,
      });
    });
  });

  describe('one e-mail identity per mailbox', () => {
    const lookAlikes: [string, (local: string) => string][] = [
      ['its Punycode form', (local) => `${local}@xn--bcher-kva.example`],
      ['a compatibility form (mathematical b)', (local) => `${local}@\u{1D41B}\u00fccher.example`],
      ['upper case', (local) => `${local.toUpperCase()}@B\u00dcCHER.EXAMPLE`],
    ];

    it.each(lookAlikes)(
      'answers a look-alike of an active account’s address, %s, like a success, storing nothing for it',
      async (_case, lookAlike) => {
        const local = newRegistration().username;
        const owner = await activatedUser(api, { email: `${local}@b\u00fccher.example` });
        const second = newRegistration({ email: lookAlike(local) });

        const response = await register(api, second);

        expectAnsweredAsRegistered(response, second);
        expect(await userItem(api, second.username)).toBeUndefined();
        expect(await userItem(api, owner.username)).toMatchObject({
          activationStatus: 'DONE',
          mailRequestKind: 'SIGN_UP_ATTEMPT',
        });
      },
    );

    it.each(lookAlikes)(
      'takes over the address of a pending account from a look-alike, %s',
      async (_case, lookAlike) => {
        const local = newRegistration().username;
        const first = await registered(api, { email: `${local}@b\u00fccher.example` });
        const second = newRegistration({ email: lookAlike(local) });

        const response = await register(api, second);

        expectAnsweredAsRegistered(response, second);
        expect(await userItem(api, first.username)).toBeUndefined();
        expect(await userEmailItem(api, `${local}@xn--bcher-kva.example`)).toMatchObject({
          username: second.username,
        });
      },
    );

    it('answers fw@ｘ.org (a fullwidth x) as for fw@x.org, where its mail goes, once that is active', async () => {
      const local = newRegistration().username;
      const owner = await activatedUser(api, { email: `${local}@x.org` });
      const second = newRegistration({ email: `${local}@\uff58.org` });

      const response = await register(api, second);

      expectAnsweredAsRegistered(response, second);
      expect(await userItem(api, second.username)).toBeUndefined();
      expect(await userItem(api, owner.username)).toMatchObject({
        mailRequestKind: 'SIGN_UP_ATTEMPT',
      });
    });

    it('claims the delivery address and shows the address as typed', async () => {
      const registration = newRegistration();
      const email = `${registration.username}@\u{1D41B}\u00fccher.example`;

      const response = await register(api, { ...registration, email });

      expect(response.status).toBe(201);
      expect(response.body.email).toBe(email);
      expect(await userItem(api, registration.username)).toMatchObject({ email });
      expect(await userEmailItem(api, `${registration.username}@xn--bcher-kva.example`)).toEqual({
        email: `${registration.username}@xn--bcher-kva.example`,
        username: registration.username,
        expiresAt: expect.any(Number),
      });
    });

    describe('next to a claim stored under the old key (before the key was the delivery address)', () => {
      /** A UserEmail item as the old rules wrote it: key NFC, trimmed, lower-cased. */
      const putOldClaim = (key: string) =>
        api.tables.documentClient.send(
          new PutCommand({
            TableName: api.config.dynamodb.tables.userEmails,
            Item: { email: key, username: 'an-older-user' },
          }),
        );

      it.each([
        ['the Punycode form of its Unicode domain', 'b\u00fccher.example', 'xn--bcher-kva.example'],
        [
          'a compatibility form of its Unicode domain',
          'b\u00fccher.example',
          '\u{1D41B}\u00fccher.example',
        ],
        ['the same compatibility form in upper case', '\uff58.org', '\uff38.ORG'],
      ])('answers %s like a success, storing nothing', async (_case, oldDomain, newDomain) => {
        const local = newRegistration().username;
        await putOldClaim(`${local}@${oldDomain}`);
        const registration = newRegistration({ email: `${local}@${newDomain}` });

        const response = await register(api, registration);

        expectAnsweredAsRegistered(response, registration);
        expect(await userItem(api, registration.username)).toBeUndefined();
        expect(await userEmailItem(api, emailKey(registration.email))).toBeUndefined();
        expect(await userEmailItem(api, `${local}@${oldDomain}`)).toEqual({
          email: `${local}@${oldDomain}`,
          username: 'an-older-user',
        });
      });

      it('accepts an address whose old keys have no claim, next to one of another mailbox', async () => {
        const local = newRegistration().username;
        await putOldClaim(`${local}@m\u00fcller.example`);
        const registration = newRegistration({ email: `${local}@b\u00fccher.example` });

        const response = await register(api, registration);

        expect(response.status).toBe(201);
        expect(await userItem(api, registration.username)).toMatchObject({
          email: registration.email,
        });
      });
    });
  });

  describe('concurrent registrations', () => {
    const RACERS = 25;

    /** The racers' user items and every claim that names one of them. */
    async function itemsOf(usernames: string[]) {
      const names = new Set(usernames);
      const users = (await allItems(api, 'users')).filter((item) =>
        names.has(item.username as string),
      );
      const claims = (await allItems(api, 'userEmails')).filter((item) =>
        names.has(item.username as string),
      );
      return { users, claims };
    }

    it(`of one username with ${RACERS} different emails and passwords: exactly one wins, the rest get 409`, async () => {
      const username = newRegistration().username;
      const racers = Array.from({ length: RACERS }, (_, i) =>
        newRegistration({ username, password: `password number ${i} of the race` }),
      );

      const responses = await Promise.all(racers.map((racer) => register(api, racer)));

      const statuses = responses.map((response) => response.status);
      expect(statuses.filter((status) => status === 201)).toHaveLength(1);
      expect(statuses.filter((status) => status === 409)).toHaveLength(RACERS - 1);
      for (const response of responses.filter((r) => r.status === 409)) {
        expect(response.body).toMatchObject({ code: 'USERNAME_TAKEN' });
      }
      const winner = racers[statuses.indexOf(201)]!;
      expect(await userItem(api, username)).toMatchObject({ email: winner.email });
      const { claims } = await itemsOf([username]);
      expect(claims).toEqual([
        { email: winner.email.toLowerCase(), username, expiresAt: expect.any(Number) },
      ]);
      for (const loser of racers.filter((racer) => racer !== winner)) {
        expect(await userEmailItem(api, emailKey(loser.email))).toBeUndefined();
      }
    });

    it(`of one email under ${RACERS} different usernames: all answered alike, one account left, nothing orphaned`, async () => {
      const email = newRegistration().email;
      const racers = Array.from({ length: RACERS }, (_, i) =>
        newRegistration({ email: i % 2 === 0 ? email : email.toUpperCase() }),
      );

      const responses = await Promise.all(racers.map((racer) => register(api, racer)));

      // Whoever came first was pending: each later one may have taken it over.
      responses.forEach((response, i) => expectAnsweredAsRegistered(response, racers[i]!));
      const { users, claims } = await itemsOf(racers.map((racer) => racer.username));
      expect(users).toHaveLength(1);
      const [survivor] = users;
      expect(survivor).toMatchObject({ activationStatus: 'NONE' });
      expect(claims).toEqual([
        {
          email: email.toLowerCase(),
          username: survivor!.username,
          expiresAt: survivor!.expiresAt,
        },
      ]);
    });

    it('of two takeovers of one pending account’s address: one of them owns it, the replaced account is gone', async () => {
      for (let round = 0; round < 3; round++) {
        const pending = await registered(api);
        const takeovers = [
          newRegistration({ email: pending.email }),
          newRegistration({ email: pending.email.toUpperCase() }),
        ];

        const responses = await Promise.all(takeovers.map((takeover) => register(api, takeover)));

        responses.forEach((response, i) => expectAnsweredAsRegistered(response, takeovers[i]!));
        expect(await userItem(api, pending.username)).toBeUndefined();
        const { users, claims } = await itemsOf([
          pending.username,
          ...takeovers.map((takeover) => takeover.username),
        ]);
        expect(users).toHaveLength(1);
        const [owner] = users;
        expect(claims).toEqual([
          {
            email: emailKey(pending.email),
            username: owner!.username,
            expiresAt: owner!.expiresAt,
          },
        ]);
      }
    });

    it('of an activation and a takeover of the account’s address: never an active account with the replaced credentials', async () => {
      const outcomes: string[] = [];
      for (let round = 0; round < 5; round++) {
        const pending = await registered(api);
        const now = new Date();
        const { token } = await claimTokenDirectly(api.tables.users, pending.username, {
          now,
          tokenExpiresAt: new Date(now.getTime() + 3600_000),
          leaseExpiresAt: now,
        });
        const takeover = newRegistration({ email: pending.email });

        const [activation, registration] = await Promise.all([
          activate(api, { username: pending.username, token, password: pending.password }),
          sleep(round * 12).then(() => register(api, takeover)),
        ]);

        expectAnsweredAsRegistered(registration, takeover);
        const [replaced, taker, claim] = [
          await userItem(api, pending.username),
          await userItem(api, takeover.username),
          await userEmailItem(api, emailKey(pending.email)),
        ];
        const key = emailKey(pending.email);
        // The activation won: the takeover found an active address and stored nothing.
        const activationWon = {
          activation: { status: 200, code: undefined },
          replaced: expect.objectContaining({
            activationStatus: 'DONE',
            mailRequestKind: 'SIGN_UP_ATTEMPT',
          }),
          taker: undefined,
          claim: { email: key, username: pending.username },
        };
        // The takeover won: the old account is gone, and with it its link.
        const takeoverWon = {
          activation: { status: 400, code: 'ACTIVATION_LINK_INVALID' },
          replaced: undefined,
          taker: expect.objectContaining({ activationStatus: 'NONE', email: takeover.email }),
          claim: { email: key, username: takeover.username, expiresAt: taker?.expiresAt },
        };
        const activated = activation.status === 200;
        outcomes.push(activated ? 'activation' : 'takeover');
        expect({
          activation: { status: activation.status, code: activation.body.code },
          replaced,
          taker,
          claim,
        }).toEqual(activated ? activationWon : takeoverWon);
      }
      process.stderr.write(`OUTCOMES ${outcomes.join(',')}\n`);
      expect(outcomes).toHaveLength(5);
    });
  });
});
