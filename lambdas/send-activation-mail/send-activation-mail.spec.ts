import { SendEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import {
  ACTIVATION_MAIL_SUBJECT,
  AccountActivationService,
  ActivationStatus,
  hashActivationToken,
  SystemClock,
} from '../../src/activation';
import { FakePasswordHasher } from '../../src/activation/testing/fake-password-hasher';
import { FixedClock } from '../../src/activation/testing/fixed-clock';
import { TestTables, testConfig } from '../../test/support/test-app';
import { LocalSes, type StoredMail } from '../../src/workers/local-ses';
import {
  ACTIVATION_URL_BASE,
  FROM_ADDRESS,
  lambdaEnv,
  newUser,
} from '../testing/pipeline-fixtures';
import { sendForReal } from '../testing/ses-mock';
import {
  createSendActivationMailHandler,
  type SendActivationMailHandler,
} from './send-activation-mail.handler';

function linkIn(mail: StoredMail): URL {
  const match = /http:\/\/cards\.test\/activate\?\S+/.exec(mail.body.text ?? '');
  if (!match) throw new Error(`No activation link in: ${mail.body.text}`);
  return new URL(match[0]);
}

let tables: TestTables;
let ses: LocalSes;

beforeAll(async () => {
  [tables, ses] = await Promise.all([new TestTables(testConfig()).create(), LocalSes.start(0)]);
});

afterAll(async () => {
  await Promise.all([tables.drop(), ses.stop()]);
});

describe('send-activation-mail over DynamoDB Local and a local SES', () => {
  let handler: SendActivationMailHandler;

  beforeAll(() => {
    handler = createSendActivationMailHandler(lambdaEnv(tables, ses.endpoint));
  });

  it('mails a NONE user one link that activates the account; RecordMailSent then marks MAIL_SENT', async () => {
    const hasher = new FakePasswordHasher();
    const user = newUser({ passwordHash: await hasher.hash('the password') });
    await tables.users.create(user);

    const result = await handler({ username: user.username, activationStatus: 'NONE' });
    const afterSend = await tables.users.findByUsername(user.username);
    const recorded = await handler({
      username: user.username,
      mailed: { claimId: result.claimId, sentAt: result.sentAt },
    });

    expect(result).toEqual({
      result: 'OK',
      claimId: expect.any(String),
      sentAt: expect.any(String),
    });
    expect(afterSend).toMatchObject({
      activationStatus: ActivationStatus.NONE,
      mailClaimId: result.claimId,
    });
    expect(recorded).toEqual({ result: 'RECORDED' });
    const mails = await ses.mailsTo(user.email);
    expect(mails).toHaveLength(1);
    const [mail] = mails as [StoredMail];
    expect(mail).toMatchObject({
      from: FROM_ADDRESS,
      destination: { to: [user.email] },
      subject: ACTIVATION_MAIL_SUBJECT,
    });
    const link = linkIn(mail);
    const token = link.searchParams.get('token') ?? '';
    expect(link.searchParams.get('username')).toBe(user.username);
    expect(link.href).toBe(
      `${ACTIVATION_URL_BASE}?username=${encodeURIComponent(user.username)}&token=${encodeURIComponent(token)}`,
    );
    expect(mail.body.html).toContain(`href="${link.href.replace(/&/g, '&amp;')}"`);
    const stored = await tables.users.findByUsername(user.username);
    expect(stored).toMatchObject({
      activationStatus: ActivationStatus.MAIL_SENT,
      activationTokenHash: hashActivationToken(token),
    });
    expect(stored?.mailClaimId).toBeUndefined();
    const activation = await new AccountActivationService(
      tables.users,
      new SystemClock(),
      hasher,
    ).activate(user.username, token, 'the password');
    expect(activation.outcome).toBe('ACTIVATED');
  });

  it('mails the address as it is delivered: the domain in ASCII, compatibility forms folded', async () => {
    const user = newUser();
    const local = user.username;
    await tables.users.create({ ...user, email: `${local}@\u{1D41B}\u00fccher.example` });

    await handler({ username: user.username });

    const mails = await ses.mailsTo(`${local}@xn--bcher-kva.example`);
    expect(mails.map((mail) => mail.destination.to)).toEqual([[`${local}@xn--bcher-kva.example`]]);
  });

  it('fails with EmailAddressNotDeliverableError for an older item whose address has a non-ASCII local part: no mail, no claim', async () => {
    const user = newUser({ email: 'j\u00f6rg@example.org' });
    // As an older version stored it: today's rules would refuse it at registration.
    await tables.documentClient.send(
      new PutCommand({ TableName: tables.config.dynamodb.tables.users, Item: { ...user } }),
    );

    const sending = handler({ username: user.username });

    await expect(sending).rejects.toMatchObject({
      name: 'EmailAddressNotDeliverableError',
      code: 'EMAIL_ADDRESS_NOT_DELIVERABLE',
    });
    await expect(tables.users.findByUsername(user.username)).resolves.toEqual(user);
    expect(await ses.mailsTo(user.email)).toHaveLength(0);
  });

  it.each([ActivationStatus.MAIL_SENT, ActivationStatus.DONE])(
    'sends nothing to a %s user and says the status is not appropriate',
    async (status) => {
      const user = newUser({ activationStatus: status });
      await tables.users.create(user);

      const result = await handler({ username: user.username });

      expect(result).toEqual({
        result: `Activation status of user ${user.username} is not appropriate. It is ${status}`,
      });
      expect(await ses.mailsTo(user.email)).toHaveLength(0);
    },
  );

  it('fails an unknown user with UserNotFoundError and sends nothing', async () => {
    const before = (await ses.mails()).length;

    await expect(handler({ username: 'nobody-here' })).rejects.toMatchObject({
      name: 'UserNotFoundError',
    });

    expect(await ses.mails()).toHaveLength(before);
  });

  it('escapes a name that looks like HTML in the HTML part', async () => {
    const user = newUser({ name: '<img src=x onerror=alert(1)>' });
    await tables.users.create(user);

    await handler({ username: user.username });

    const [mail] = (await ses.mailsTo(user.email)) as [StoredMail];
    expect(mail.body.html).toContain('Dear &lt;img src=x onerror=alert(1)&gt;,');
    expect(mail.body.html).not.toContain('<img');
  });

  it('sends exactly one mail when two attempts for one user race', async () => {
    const user = newUser();
    await tables.users.create(user);

    const outcomes = await Promise.allSettled([
      handler({ username: user.username }),
      handler({ username: user.username }),
    ]);

    expect(await ses.mailsTo(user.email)).toHaveLength(1);
    const results = outcomes.map((outcome) =>
      outcome.status === 'fulfilled'
        ? outcome.value.result
        : (outcome.reason as { name: string }).name,
    );
    expect(results).toContain('OK');
    // The loser found the claim held: the winner's mail is not recorded yet.
    expect(results.filter((result) => result !== 'OK')).toEqual(['ActivationMailInProgressError']);
  });

  it('refuses a link base that is not on the allow-list, sends nothing, keeps NONE', async () => {
    const user = newUser({ activationUrlBase: 'http://evil.test/activate' });
    await tables.users.create(user);

    await expect(handler({ username: user.username })).rejects.toMatchObject({
      name: 'ActivationUrlBaseNotAllowedError',
    });

    expect(await ses.mailsTo(user.email)).toHaveLength(0);
    expect((await tables.users.findByUsername(user.username))?.activationStatus).toBe(
      ActivationStatus.NONE,
    );
  });

  it.each([
    ['no username', {}],
    ['a number', { username: 42 }],
    ['a string', 'alice'],
    ['null', null],
    ['an over-long username', { username: 'x'.repeat(3000) }],
    ['a "mailed" without a claim', { username: 'alice', mailed: { sentAt: 'now' } }],
    ['a "mailed" that is not an object', { username: 'alice', mailed: 'yes' }],
    [
      'a "mailed" whose "notice" is not a boolean',
      { username: 'alice', mailed: { claimId: 'c', sentAt: 'now', notice: 'yes' } },
    ],
    ['a "mailRequestId" that is not a request id', { username: 'alice', mailRequestId: 'r-1' }],
  ])('refuses a task input with %s with InvalidTaskInputError', async (_label, event) => {
    await expect(handler(event)).rejects.toMatchObject({ name: 'InvalidTaskInputError' });
  });
});

describe('send-activation-mail when the local SES throttles (SES_LOCAL_THROTTLE_RATE 0.5)', () => {
  let throttling: LocalSes;
  let handler: SendActivationMailHandler;

  beforeAll(async () => {
    throttling = await LocalSes.start(0, { throttleRate: 0.5 });
    handler = createSendActivationMailHandler(lambdaEnv(tables, throttling.endpoint));
  });

  afterAll(() => throttling.stop());

  it('reports a throttled send as MailDeliveryError, releases the claim, and a retry mails once', async () => {
    const user = newUser();
    await tables.users.create(user);

    await expect(handler({ username: user.username })).rejects.toMatchObject({
      name: 'MailDeliveryError',
      outcomeUnknown: false,
    });
    const afterFailure = await tables.users.findByUsername(user.username);
    expect(afterFailure).toMatchObject({ activationStatus: ActivationStatus.NONE });
    expect(afterFailure?.mailClaimId).toBeUndefined();
    expect(await ses.mailsTo(user.email)).toHaveLength(0);

    await expect(handler({ username: user.username })).resolves.toMatchObject({ result: 'OK' });

    expect(await ses.mailsTo(user.email)).toHaveLength(1);
  });
});

describe('send-activation-mail when SES fails (aws-sdk-client-mock on the SES client)', () => {
  // Created in beforeAll: mockClient replaces SESClient's send for every client at once.
  let sesMock: AwsClientStub<SESClient>;
  const clock = new FixedClock(new Date());
  let handler: SendActivationMailHandler;

  beforeAll(() => {
    sesMock = mockClient(SESClient);
    handler = createSendActivationMailHandler(lambdaEnv(tables, ses.endpoint), { clock });
  });

  beforeEach(() => {
    sesMock.reset();
    sesMock.on(SendEmailCommand).callsFake(sendForReal);
  });

  afterAll(() => {
    sesMock.restore();
  });

  it('keeps the claim after a timeout (outcome unknown) until its lease ends, then mails', async () => {
    const user = newUser();
    await tables.users.create(user);
    sesMock
      .on(SendEmailCommand)
      .rejectsOnce(
        Object.assign(new Error('Connection timed out after 5000 ms'), {
          name: 'TimeoutError',
          $metadata: { attempts: 1 },
        }),
      )
      .callsFake(sendForReal);

    await expect(handler({ username: user.username })).rejects.toMatchObject({
      name: 'MailDeliveryError',
      outcomeUnknown: true,
    });
    expect((await tables.users.findByUsername(user.username))?.mailClaimId).toBeDefined();
    await expect(handler({ username: user.username })).rejects.toMatchObject({
      name: 'ActivationMailInProgressError',
    });
    expect(await ses.mailsTo(user.email)).toHaveLength(0);

    clock.advanceSeconds(61);
    await expect(handler({ username: user.username })).resolves.toMatchObject({ result: 'OK' });

    expect(await ses.mailsTo(user.email)).toHaveLength(1);
  });
});
