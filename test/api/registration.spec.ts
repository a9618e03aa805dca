/**
 * POST /users: what a successful registration answers and stores, uniqueness of username
 * and email (also under concurrency), and that a failed registration leaves nothing behind.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import request from 'supertest';
import { emailKey } from '../../src/activation';
import { createTestApp, type TestApp } from '../support/test-app';
import {
  allItems,
  expectApiError,
  newRegistration,
  register,
  registered,
  userEmailItem,
  userItem,
} from './api-helpers';

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
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        expiresAt: expect.any(Number),
      });
      const createdAt = Date.parse(item!.createdAt as string);
      // Pending for PENDING_ACCOUNT_TTL_SECONDS (7 days by default), then gone.
      expect(item!.expiresAt).toBe(Math.floor(createdAt / 1000) + 7 * 24 * 3600);
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

  describe('a taken username', () => {
    it('is refused with 409 USERNAME_TAKEN and leaves the first user as it was', async () => {
      const first = await registered(api);
      const before = await userItem(api, first.username);
      const second = newRegistration({ username: first.username, name: 'Someone Else' });

      const response = await register(api, second);

      expectApiError(response, 409, 'USERNAME_TAKEN');
      expect(await userItem(api, first.username)).toEqual(before);
    });

    it('is refused in another letter case too', async () => {
      await registered(api, { username: 'alice' });

      const response = await register(api, newRegistration({ username: 'Alice' }));

      expectApiError(response, 409, 'USERNAME_TAKEN');
    });

    it('leaves no UserEmail item for the new email', async () => {
      const first = await registered(api);
      const second = newRegistration({ username: first.username.toUpperCase() });

      const response = await register(api, second);

      expect(response.status).toBe(409);
      expect(await userEmailItem(api, second.email.toLowerCase())).toBeUndefined();
    });
  });

  describe('a taken email', () => {
    it('is refused with 409 EMAIL_TAKEN in another letter case, without echoing the address', async () => {
      const first = await registered(api);
      const second = newRegistration({ email: first.email.toUpperCase() });

      const response = await register(api, second);

      expectApiError(response, 409, 'EMAIL_TAKEN');
      expect(response.text.toLowerCase()).not.toContain(first.email.toLowerCase());
    });

    it('is refused when it differs only in Unicode composition (NFC) and letter case', async () => {
      const local = newRegistration().username;
      await registered(api, { email: `${local}@zoe\u0308.example` });

      const response = await register(api, newRegistration({ email: `${local}@ZO\u00cb.example` }));

      expectApiError(response, 409, 'EMAIL_TAKEN');
    });

    it('leaves no User item for the new username', async () => {
      const first = await registered(api);
      const second = newRegistration({ email: ` ${first.email.toUpperCase()} ` });

      const response = await register(api, second);

      expect(response.status).toBe(409);
      expect(await userItem(api, second.username)).toBeUndefined();
      expect(await userEmailItem(api, first.email.toLowerCase())).toEqual({
        email: first.email.toLowerCase(),
        username: first.username,
        expiresAt: expect.any(Number),
      });
    });

    it('is still free for the username after a refused registration', async () => {
      const first = await registered(api);
      const refused = newRegistration({ email: first.email });
      await register(api, refused);

      const retry = await register(api, { ...refused, email: newRegistration().email });

      expect(retry.status).toBe(201);
    });
  });

  describe('one e-mail identity per mailbox', () => {
    it.each([
      ['its Punycode form', (local: string) => `${local}@xn--bcher-kva.example`],
      [
        'a compatibility form (mathematical b)',
        (local: string) => `${local}@\u{1D41B}\u00fccher.example`,
      ],
      ['upper case', (local: string) => `${local.toUpperCase()}@B\u00dcCHER.EXAMPLE`],
    ])(
      'refuses a look-alike of a registered address, %s, with 409 EMAIL_TAKEN',
      async (_case, lookAlike) => {
        const local = newRegistration().username;
        await registered(api, { email: `${local}@b\u00fccher.example` });
        const second = newRegistration({ email: lookAlike(local) });

        const response = await register(api, second);

        expectApiError(response, 409, 'EMAIL_TAKEN');
        expect(await userItem(api, second.username)).toBeUndefined();
      },
    );

    it('refuses fw@ｘ.org (a fullwidth x) once fw@x.org is registered, where its mail goes', async () => {
      const local = newRegistration().username;
      await registered(api, { email: `${local}@x.org` });

      const response = await register(api, newRegistration({ email: `${local}@\uff58.org` }));

      expectApiError(response, 409, 'EMAIL_TAKEN');
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
      ])(
        'refuses %s with 409 EMAIL_TAKEN, storing nothing',
        async (_case, oldDomain, newDomain) => {
          const local = newRegistration().username;
          await putOldClaim(`${local}@${oldDomain}`);
          const registration = newRegistration({ email: `${local}@${newDomain}` });

          const response = await register(api, registration);

          expectApiError(response, 409, 'EMAIL_TAKEN');
          expect(await userItem(api, registration.username)).toBeUndefined();
          expect(await userEmailItem(api, emailKey(registration.email))).toBeUndefined();
        },
      );

      it('accepts an address whose old keys have no claim, next to one of another mailbox', async () => {
        const local = newRegistration().username;
        await putOldClaim(`${local}@m\u00fcller.example`);

        const response = await register(
          api,
          newRegistration({ email: `${local}@b\u00fccher.example` }),
        );

        expect(response.status).toBe(201);
      });
    });
  });

  describe('concurrent registrations', () => {
    const RACERS = 25;

    it(`of one username with ${RACERS} different emails: exactly one wins, the rest get 409`, async () => {
      const username = newRegistration().username;
      const racers = Array.from({ length: RACERS }, () => newRegistration({ username }));

      const responses = await Promise.all(racers.map((racer) => register(api, racer)));

      const statuses = responses.map((response) => response.status);
      expect(statuses.filter((status) => status === 201)).toHaveLength(1);
      expect(statuses.filter((status) => status === 409)).toHaveLength(RACERS - 1);
      for (const response of responses.filter((r) => r.status === 409)) {
        expect(response.body).toMatchObject({ code: 'USERNAME_TAKEN' });
      }
      const winner = racers[statuses.indexOf(201)]!;
      expect(await userItem(api, username)).toMatchObject({ email: winner.email });
      const claims = (await allItems(api, 'userEmails')).filter(
        (item) => item.username === username,
      );
      expect(claims).toEqual([
        { email: winner.email.toLowerCase(), username, expiresAt: expect.any(Number) },
      ]);
    });

    it(`of one email under ${RACERS} different usernames: exactly one wins, the rest get 409`, async () => {
      const email = newRegistration().email;
      const racers = Array.from({ length: RACERS }, (_, i) =>
        newRegistration({ email: i % 2 === 0 ? email : email.toUpperCase() }),
      );

      const responses = await Promise.all(racers.map((racer) => register(api, racer)));

      const statuses = responses.map((response) => response.status);
      expect(statuses.filter((status) => status === 201)).toHaveLength(1);
      expect(statuses.filter((status) => status === 409)).toHaveLength(RACERS - 1);
      for (const response of responses.filter((r) => r.status === 409)) {
        expect(response.body).toMatchObject({ code: 'EMAIL_TAKEN' });
      }
      const winner = racers[statuses.indexOf(201)]!;
      const users = await allItems(api, 'users');
      const racerUsernames = new Set(racers.map((racer) => racer.username));
      expect(
        users
          .filter((item) => racerUsernames.has(item.username as string))
          .map((item) => item.username),
      ).toEqual([winner.username]);
      expect(await userEmailItem(api, email.toLowerCase())).toEqual({
        email: email.toLowerCase(),
        username: winner.username,
        expiresAt: expect.any(Number),
      });
    });
  });
});
