/**
 * The Spring app's items over the real local pipeline (stream, trigger, state machine,
 * SES): copying them into the table mails nobody; a legacy pending account gets a working
 * link only by asking for one, on this deployment's base, never the base it stored; the
 * link activates it with its old password, whose plaintext then goes.
 */
import type { Server } from 'node:http';
import { type AttributeValue, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import request from 'supertest';
import { springAppItems } from '../../scripts/seed-legacy';
import {
  activationLinkIn,
  passwordResetLinkIn,
  type PipelineHarness,
  startPipelineHarness,
} from './pipeline-harness';

jest.setTimeout(60_000);

const FIXTURES = springAppItems();
const fixture = (username: string) =>
  FIXTURES.find(({ item }) => item.username?.S === username)!.item;

describe("the Spring app's items, through the pipeline", () => {
  let system: PipelineHarness;
  let http: Server;

  const rawItem = async (username: string): Promise<Record<string, AttributeValue>> =>
    (
      await system.tables.client.send(
        new GetItemCommand({
          TableName: system.config.dynamodb.tables.users,
          Key: { username: { S: username } },
          ConsistentRead: true,
        }),
      )
    ).Item!;

  beforeAll(async () => {
    system = await startPipelineHarness();
    http = system.app.getHttpServer() as Server;
    for (const { item } of FIXTURES) {
      await system.tables.client.send(
        new PutItemCommand({ TableName: system.config.dynamodb.tables.users, Item: item }),
      );
    }
    // The stream has had its INSERTs; the trigger lets none of them through.
    await system.stack.pipeline.settled();
  });
  afterAll(() => system?.close());

  it('mails nobody when the items are copied in', async () => {
    const addresses = FIXTURES.flatMap(({ item }) => (item.email?.S ? [item.email.S] : []));

    const mails = await Promise.all(addresses.map((address) => system.mailsTo(address)));

    expect(mails.flat()).toEqual([]);
  });

  it('sends a legacy MAIL_SENT account a link on its own base when asked, which activates it', async () => {
    const margaret = fixture('margaret');
    const asked = await request(http)
      .post('/activation-mail')
      .set('Accept', 'application/json')
      .send({ username: 'margaret' });
    expect(asked.status).toBe(202);

    const mail = await system.waitForMail(margaret.email!.S!);
    const link = activationLinkIn(mail);
    expect(link.origin).toBe(system.origin);
    expect(mail.body.text).not.toContain('attacker.example');
    expect(link.searchParams.get('token')).not.toBe(margaret.activationToken!.S);

    const activated = await request(http)
      .post('/activate')
      .set('Accept', 'application/json')
      .send({
        username: 'margaret',
        token: link.searchParams.get('token'),
        password: margaret.password!.S,
      });

    expect(activated.status).toBe(200);
    const after = await rawItem('margaret');
    expect(after.activationStatus?.S).toBe('DONE');
    expect(after).not.toHaveProperty('password');
    expect(after.passwordHash?.S).toMatch(/^\$argon2id\$/);
    // What it stored stays, and is still not used.
    expect(after.balance).toEqual({ N: '100' });
    expect(after.activationUrlBase).toEqual(margaret.activationUrlBase);
  });

  it.each([
    ['cardstore6, DONE', 'ada'],
    ['cardstore3, no activationStatus', 'grace'],
  ])(
    'resets the password of a legacy account (%s) before its first sign-in: the plaintext goes',
    async (_case, username) => {
      const item = fixture(username);
      const asked = await request(http)
        .post('/password-reset')
        .set('Accept', 'application/json')
        .send({ username });
      expect(asked.status).toBe(202);
      const mail = await system.waitForMail(item.email!.S!);
      const link = passwordResetLinkIn(mail);

      const reset = await request(http)
        .post('/password-reset/new')
        .set('Accept', 'application/json')
        .send({ username, token: link.searchParams.get('token'), password: 'a new passphrase' });

      expect(reset.status).toBe(200);
      const after = await rawItem(username);
      expect(after).not.toHaveProperty('password');
      expect(after.activationStatus?.S).toBe('DONE');
      expect(after.balance).toEqual({ N: String(Number(item.balance!.N)) });
      const old = await request(http).post('/login').send({ username, password: item.password!.S });
      const renewed = await request(http)
        .post('/login')
        .send({ username, password: 'a new passphrase' });
      expect([old.status, renewed.status]).toEqual([401, 200]);
    },
  );
});
