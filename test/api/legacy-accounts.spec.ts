/**
 * The Spring app's items in the User table (test/fixtures/spring-app-users.json, each
 * generation as DynamoDBMapper wrote them), over DynamoDB Local: who signs in, that the
 * plaintext is gone after the first sign-in and nothing else of the item changed, that a
 * legacy token never activates, that a sign-up never writes over a legacy item.
 * docs/taking-over-the-spring-app.md has the policy these tests hold.
 */
import { type AttributeValue, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import request from 'supertest';
import { springAppItems } from '../../scripts/seed-legacy';
import { createTestApp, type TestApp } from '../support/test-app';
import {
  activatedUser,
  expectApiError,
  newRegistration,
  SESSION_COOKIE,
  setCookie,
} from './api-helpers';

type Item = Record<string, AttributeValue>;

const FIXTURES = springAppItems();
const fixture = (username: string): Item => {
  const found = FIXTURES.find(({ item }) => item.username?.S === username);
  if (!found) throw new Error(`no fixture ${username}`);
  return found.item;
};
const passwordOf = (username: string) => fixture(username).password!.S!;

describe("the Spring app's items", () => {
  let api: TestApp;

  const rawItem = async (username: string): Promise<Item | undefined> =>
    (
      await api.tables.client.send(
        new GetItemCommand({
          TableName: api.config.dynamodb.tables.users,
          Key: { username: { S: username } },
          ConsistentRead: true,
        }),
      )
    ).Item;

  const signIn = (username: string, password: string) =>
    request(api.http).post('/login').send({ username, password });

  beforeAll(async () => {
    api = await createTestApp();
    for (const { item } of FIXTURES) {
      await api.tables.client.send(
        new PutItemCommand({ TableName: api.config.dynamodb.tables.users, Item: item }),
      );
    }
  });
  afterAll(() => api.close());

  describe('signing in with the plaintext password', () => {
    it.each([
      ['cardstore3, no activationStatus', 'grace'],
      ['cardstore3, no e-mail address, a 4-character password', 'linus'],
      ['cardstore6, DONE', 'ada'],
      ['cardstore7, DONE by mass assignment', 'mallory'],
      ['cardstore7, an e-mail address the rules refuse', 'barbara'],
      ['cardstore7, a username the rules refuse, typed exactly', 'Edsger Dijkstra'],
    ])(
      'signs in (%s): the plaintext replaced by its hash, nothing else changed',
      async (_case, username) => {
        const before = await rawItem(username);

        const response = await signIn(username, passwordOf(username));

        expect(response.status).toBe(200);
        expect(setCookie(response, SESSION_COOKIE)?.value).toBeTruthy();
        const after = await rawItem(username);
        const { password: _plaintext, ...unchanged } = before!;
        const { passwordHash, ...rest } = after!;
        expect(passwordHash?.S).toMatch(/^\$argon2id\$v=19\$/);
        expect(after).not.toHaveProperty('password');
        expect(JSON.stringify(after)).not.toContain(passwordOf(username));
        // balance, the legacy token and link base, every other attribute: as they were; the
        // oldest items (no activation then) get the DONE that reading them assumed.
        expect(rest).toEqual({ activationStatus: { S: 'DONE' }, ...unchanged });
        // And the next sign-in checks the hash.
        expect((await signIn(username, passwordOf(username))).status).toBe(200);
      },
    );

    it.each([
      ['cardstore6, NONE', 'alan'],
      ['cardstore7, MAIL_SENT', 'margaret'],
    ])(
      'refuses a pending account (%s) as not activated, yet replaces its plaintext',
      async (_case, username) => {
        const response = await signIn(username, passwordOf(username));

        expectApiError(response, 403, 'ACCOUNT_NOT_ACTIVATED');
        expect(await rawItem(username)).not.toHaveProperty('password');
      },
    );

    it('refuses a wrong password (401) and writes nothing', async () => {
      await api.tables.client.send(
        new PutItemCommand({
          TableName: api.config.dynamodb.tables.users,
          Item: { ...fixture('grace'), username: { S: 'grace2' } },
        }),
      );
      const untouched = await rawItem('grace2');

      expectApiError(await signIn('grace2', 'hopper1907'), 401, 'INVALID_CREDENTIALS');
      expectApiError(await signIn('grace2', ''), 401, 'INVALID_CREDENTIALS');
      expect(await rawItem('grace2')).toEqual(untouched);
    });

    it('finds a username the rules refuse only as it was stored, capitals and all', async () => {
      await api.tables.client.send(
        new PutItemCommand({
          TableName: api.config.dynamodb.tables.users,
          Item: { ...fixture('Edsger Dijkstra'), username: { S: 'Tony Hoare' } },
        }),
      );

      expectApiError(
        await signIn('tony hoare', passwordOf('Edsger Dijkstra')),
        401,
        'INVALID_CREDENTIALS',
      );
      expect(await rawItem('Tony Hoare')).toHaveProperty('password');
      expect((await signIn('Tony Hoare', passwordOf('Edsger Dijkstra'))).status).toBe(200);
    });

    it('keeps a legacy `Kay` and a new `kay` apart: each signs in with its own password', async () => {
      await api.tables.client.send(
        new PutItemCommand({
          TableName: api.config.dynamodb.tables.users,
          Item: { ...fixture('ada'), username: { S: 'Kay' } },
        }),
      );
      // A new account under the normalised form, which the legacy one does not hold.
      await activatedUser(api, { username: 'kay', password: 'a new account of its own' });

      expect((await signIn('Kay', passwordOf('ada'))).status).toBe(200);
      expect((await signIn('kay', 'a new account of its own')).status).toBe(200);
      expectApiError(await signIn('kay', passwordOf('ada')), 401, 'INVALID_CREDENTIALS');
      expect(await rawItem('Kay')).not.toHaveProperty('password');
    });

    it('lets two first sign-ins at once both succeed, over one replacement', async () => {
      await api.tables.client.send(
        new PutItemCommand({
          TableName: api.config.dynamodb.tables.users,
          Item: { ...fixture('ada'), username: { S: 'ada2' } },
        }),
      );

      const responses = await Promise.all([
        signIn('ada2', passwordOf('ada')),
        signIn('ada2', passwordOf('ada')),
      ]);

      expect(responses.map((response) => response.status)).toEqual([200, 200]);
      const after = await rawItem('ada2');
      expect(after).not.toHaveProperty('password');
      expect(Number(after?.balance?.N)).toBe(87.25);
    });

    it('shows a signed-in legacy account as it is, an address or not', async () => {
      const login = await signIn('linus', passwordOf('linus'));
      const cookie = `${SESSION_COOKIE}=${setCookie(login, SESSION_COOKIE)!.value}`;

      const me = await request(api.http).get('/users/me').set('Cookie', cookie);

      expect(me.status).toBe(200);
      expect(me.body).toEqual({
        username: 'linus',
        email: '',
        name: 'Linus',
        activationStatus: 'DONE',
      });
    });
  });

  describe('what is never honoured', () => {
    it('the legacy activation token: neither its page nor its POST activates', async () => {
      const token = fixture('alan').activationToken!.S!;

      const page = await request(api.http).get('/activate').query({ username: 'alan', token });
      const post = await request(api.http)
        .post('/activate')
        .send({ username: 'alan', token, password: passwordOf('alan') });

      expect(page.status).toBe(400);
      expect(page.text).toContain('This activation link is not valid or has expired');
      expectApiError(post, 400, 'ACTIVATION_LINK_INVALID');
      expect((await rawItem('alan'))?.activationStatus?.S).toBe('NONE');
    });

    it('a sign-up never writes over a legacy item, with its own password or not', async () => {
      const before = await rawItem('margaret');

      const response = await request(api.http)
        .post('/users')
        .send(newRegistration({ username: 'margaret', password: passwordOf('margaret') }));

      expectApiError(response, 409, 'USERNAME_TAKEN');
      expect(await rawItem('margaret')).toEqual(before);
    });

    it('asking for a new activation mail by username opens a request, keeping the rest', async () => {
      const before = await rawItem('alan');

      const response = await request(api.http)
        .post('/activation-mail')
        .send({ username: 'alan' })
        .set('Accept', 'application/json');

      expect(response.status).toBe(202);
      const after = await rawItem('alan');
      expect(after?.mailRequestId?.S).toBeTruthy();
      expect(after?.balance).toEqual(before?.balance);
      expect(after?.activationToken).toEqual(before?.activationToken);
    });
  });

  describe('an item of neither shape (a bug, a manual edit)', () => {
    it.each([
      [
        'an activationStatus no app wrote',
        { password: { S: 'x' }, activationStatus: { S: 'ACTIVE' } },
      ],
      ['no credential at all', { name: { S: 'Nobody' } }],
    ])('%s: no account to any route, never a 500, never written over', async (_case, rest) => {
      const username = `odd-${Math.random().toString(36).slice(2, 8)}`;
      await api.tables.client.send(
        new PutItemCommand({
          TableName: api.config.dynamodb.tables.users,
          Item: { username: { S: username }, ...rest },
        }),
      );
      const before = await rawItem(username);
      const token = 'A'.repeat(43);

      const answers = [
        await signIn(username, 'x'),
        await request(api.http)
          .post('/users')
          .send(newRegistration({ username, password: 'a password of mine' })),
        await request(api.http)
          .post('/activation-mail')
          .set('Accept', 'application/json')
          .send({ username }),
        await request(api.http)
          .post('/password-reset')
          .set('Accept', 'application/json')
          .send({ username }),
        await request(api.http)
          .post('/activate')
          .set('Accept', 'application/json')
          .send({ username, token, password: 'x' }),
      ];

      expect(answers.map((answer) => [answer.status, answer.body.code])).toEqual([
        [401, 'INVALID_CREDENTIALS'],
        [409, 'USERNAME_TAKEN'],
        [202, undefined],
        [202, undefined],
        [400, 'ACTIVATION_LINK_INVALID'],
      ]);
      expect(await rawItem(username)).toEqual(before);
    });
  });
});
