import { AccountActivationService } from './account-activation.service';
import { ActivationMailRequestService } from './activation-mail-request.service';
import { ActivationStatus } from './activation-status';
import {
  ActivationMailInProgressError,
  ActivationUrlBaseNotAllowedError,
  EmailAddressNotDeliverableError,
  InvalidActivationLinkError,
  InvalidPasswordResetLinkError,
  MailDeliveryError,
  StoreBusyError,
  UserNotFoundError,
  UserStoreError,
} from './activation.errors';
import { activationTokenMatches } from './activation-token';
import { ACCOUNT_NOTICE_SUBJECTS } from './account-notice-mail';
import {
  MailRequestKind,
  newMailRequest,
  PASSWORD_CHANGED_NOTICE_HOLD_SECONDS,
} from './mail-request';
import { MailNotSentError } from './mailer.port';
import { PasswordChangeService } from './password-change.service';
import { PASSWORD_RESET_MAIL_SUBJECT } from './password-reset-mail';
import { PasswordResetRequestService } from './password-reset-request.service';
import { activateDirectly } from './testing/activate-directly';
import {
  type ActivationMailSettings,
  SendActivationMailService,
} from './send-activation-mail.service';
import { FakePasswordHasher } from './testing/fake-password-hasher';
import { FixedClock } from './testing/fixed-clock';
import { InMemoryUserStore } from './testing/in-memory-user-store';
import { activationLinkIn, activationTokenIn, RecordingMailer } from './testing/recording-mailer';
import type { NewUserRecord } from './user';

const PASSWORD = 'correct horse battery staple';
const NOW = '2026-01-15T10:00:00.000Z';
const TOKEN_TTL_SECONDS = 24 * 3600;
const LEASE_SECONDS = 300;
const BASE = 'https://cards.example/activate';

const SETTINGS: ActivationMailSettings = {
  tokenTtlSeconds: TOKEN_TTL_SECONDS,
  passwordResetTokenTtlSeconds: 3600,
  claimLeaseSeconds: LEASE_SECONDS,
  allowedActivationUrlBases: [BASE, 'http://localhost:3000/activate/'],
};

const alice: NewUserRecord = {
  username: 'alice',
  email: 'Alice@Example.org',
  name: 'Alice Liddell',
  // What FakePasswordHasher makes of PASSWORD.
  passwordHash: `$fake$${Buffer.from(PASSWORD).toString('hex')}`,
  activationStatus: ActivationStatus.NONE,
  activationUrlBase: BASE,
  createdAt: '2026-01-15T09:59:00.000Z',
};

describe('SendActivationMailService', () => {
  let store: InMemoryUserStore;
  let mailer: RecordingMailer;
  let clock: FixedClock;
  let service: SendActivationMailService;

  beforeEach(() => {
    store = new InMemoryUserStore();
    mailer = new RecordingMailer();
    clock = new FixedClock(NOW);
    service = new SendActivationMailService(store, mailer, clock, SETTINGS);
  });

  /** What the state machine does: SendActivationMail, then RecordMailSent with its result. */
  async function mailAndRecord(username: string) {
    const outcome = await service.send(username);
    if (outcome.sent) await service.recordMailSent(username, outcome.claimId, outcome.sentAt);
    return outcome;
  }
  const SENT = { sent: true, claimId: expect.any(String), sentAt: NOW, notice: false };

  describe('for a user in status NONE', () => {
    beforeEach(async () => {
      await store.create(alice);
    });

    it('sends one activation mail to the user’s address', async () => {
      const outcome = await service.send('alice');

      expect(outcome).toEqual(SENT);
      expect(mailer.sent).toHaveLength(1);
      // The delivery address: the domain in its ASCII form, which DNS has in lower case.
      expect(mailer.sent[0]).toMatchObject({
        to: 'Alice@example.org',
        subject: 'Activate your Digital Card Store account',
      });
      expect(mailer.sent[0]!.text).toContain('Dear Alice Liddell,');
    });

    it('answers the claim of the mail it sent and writes MAIL_SENT only when told to', async () => {
      const outcome = await service.send('alice');
      const afterSend = await store.findByUsername('alice');

      expect(afterSend).toMatchObject({
        activationStatus: ActivationStatus.NONE,
        mailClaimId: outcome.sent ? outcome.claimId : 'none',
      });
      await expect(
        service.recordMailSent('alice', outcome.sent ? outcome.claimId : '', NOW),
      ).resolves.toEqual({ recorded: true });
    });

    it('marks the user MAIL_SENT at the current time and clears the send claim', async () => {
      await mailAndRecord('alice');

      const stored = await store.findByUsername('alice');
      expect(stored).toMatchObject({
        activationStatus: ActivationStatus.MAIL_SENT,
        activationMailSentAt: NOW,
      });
      expect(stored).not.toHaveProperty('mailClaimId');
      expect(stored).not.toHaveProperty('mailClaimExpiresAt');
    });

    it('stores only the hash of the mailed token, expiring after the configured TTL', async () => {
      await mailAndRecord('alice');

      const stored = (await store.findByUsername('alice'))!;
      const token = activationTokenIn(mailer.sent[0]!);
      expect(activationTokenMatches(token, stored.activationTokenHash)).toBe(true);
      expect(stored.activationTokenHash).not.toBe(token);
      expect(stored.activationTokenExpiresAt).toBe('2026-01-16T10:00:00.000Z');
      expect(JSON.stringify(stored)).not.toContain(token);
      expect(mailer.sent[0]!.text).toContain('valid until 2026-01-16 10:00 UTC');
    });

    it('links to the user’s base with the username and the token', async () => {
      await mailAndRecord('alice');

      const link = activationLinkIn(mailer.sent[0]!);
      expect(`${link.origin}${link.pathname}`).toBe(BASE);
      expect(link.searchParams.get('username')).toBe('alice');
      expect(link.searchParams.get('token')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });

    it('mails a token that activates the account', async () => {
      await mailAndRecord('alice');

      const activation = new AccountActivationService(store, clock, new FakePasswordHasher());
      await expect(
        activation.activate('alice', activationTokenIn(mailer.sent[0]!), PASSWORD),
      ).resolves.toMatchObject({ outcome: 'ACTIVATED' });
    });

    it('records nothing twice: a repeated RecordMailSent finds MAIL_SENT', async () => {
      const outcome = await mailAndRecord('alice');

      const again = await service.recordMailSent('alice', outcome.sent ? outcome.claimId : '', NOW);

      expect(again).toEqual({ recorded: false, status: ActivationStatus.MAIL_SENT });
      expect(mailer.sent).toHaveLength(1);
    });

    it('sends no second mail when called again (a duplicated stream record)', async () => {
      await mailAndRecord('alice');

      const again = await service.send('alice');

      expect(again).toEqual({ sent: false, status: ActivationStatus.MAIL_SENT });
      expect(mailer.sent).toHaveLength(1);
    });
  });

  it.each([ActivationStatus.MAIL_SENT, ActivationStatus.DONE])(
    'sends nothing to a user in status %s and reports that status',
    async (status) => {
      await store.create({ ...alice, activationStatus: status });
      const before = await store.findByUsername('alice');

      const outcome = await service.send('alice');

      expect(outcome).toEqual({ sent: false, status });
      expect(mailer.attempts).toHaveLength(0);
      await expect(store.findByUsername('alice')).resolves.toEqual(before);
    },
  );

  it('refuses an unknown user with UserNotFoundError', async () => {
    const sending = service.send('nobody');

    await expect(sending).rejects.toBeInstanceOf(UserNotFoundError);
    await expect(sending).rejects.toMatchObject({ code: 'USER_NOT_FOUND', username: 'nobody' });
    expect(mailer.attempts).toHaveLength(0);
  });

  it.each([
    ['empty', ''],
    ['longer than any username', 'x'.repeat(3000)],
  ])(
    'refuses a username that is %s with UserNotFoundError, without asking the store',
    async (_case, username) => {
      const finding = jest.spyOn(store, 'findByUsername');

      await expect(service.send(username)).rejects.toBeInstanceOf(UserNotFoundError);

      expect(finding).not.toHaveBeenCalled();
      expect(mailer.attempts).toHaveLength(0);
    },
  );

  it('reports the new status when the user left NONE between the read and the claim', async () => {
    await store.create({ ...alice, activationStatus: ActivationStatus.MAIL_SENT });
    jest.spyOn(store, 'findByUsername').mockResolvedValueOnce(alice);

    const outcome = await service.send('alice');

    expect(outcome).toEqual({ sent: false, status: ActivationStatus.MAIL_SENT });
    expect(mailer.attempts).toHaveLength(0);
  });

  it('refuses with UserNotFoundError when the user vanished between the read and the claim', async () => {
    jest.spyOn(store, 'findByUsername').mockResolvedValueOnce(alice);

    await expect(service.send('alice')).rejects.toBeInstanceOf(UserNotFoundError);
    expect(mailer.attempts).toHaveLength(0);
  });

  describe('the allow-list of link bases', () => {
    it.each([
      ['another host', 'https://evil.example/activate'],
      ['another scheme', 'http://cards.example/activate'],
      ['a longer path', 'https://cards.example/activate/extra'],
      [
        'a host that only starts like an allowed one',
        'https://cards.example.evil.example/activate',
      ],
      ['a query of its own', 'https://cards.example/activate?next=https://evil.example'],
    ])(
      'refuses a base on %s with ActivationUrlBaseNotAllowedError, mailing and claiming nothing',
      async (_case, base) => {
        await store.create({ ...alice, activationUrlBase: base });

        const sending = service.send('alice');

        await expect(sending).rejects.toBeInstanceOf(ActivationUrlBaseNotAllowedError);
        await expect(sending).rejects.toMatchObject({ activationUrlBase: base });
        expect(mailer.attempts).toHaveLength(0);
        await expect(store.findByUsername('alice')).resolves.toEqual({
          ...alice,
          activationUrlBase: base,
        });
      },
    );

    it('accepts the user’s base with a trailing slash and links without it', async () => {
      await store.create({ ...alice, activationUrlBase: `${BASE}/` });

      await expect(service.send('alice')).resolves.toEqual(SENT);

      expect(activationLinkIn(mailer.sent[0]!).pathname).toBe('/activate');
    });

    it('accepts a base configured with a trailing slash when the user’s has none', async () => {
      await store.create({ ...alice, activationUrlBase: 'http://localhost:3000/activate' });

      await expect(service.send('alice')).resolves.toEqual(SENT);

      expect(activationLinkIn(mailer.sent[0]!).href).toMatch(
        /^http:\/\/localhost:3000\/activate\?username=alice&token=/,
      );
    });
  });

  describe('the address the mail goes to', () => {
    it('is the delivery address: the domain in ASCII, compatibility forms folded', async () => {
      await store.create({ ...alice, email: 'Alice@\u{1D41B}\u00fccher.example' });

      await expect(service.send('alice')).resolves.toEqual(SENT);

      expect(mailer.sent.map((mail) => mail.to)).toEqual(['Alice@xn--bcher-kva.example']);
    });

    it('refuses a stored address with a non-ASCII local part (an older item) with EmailAddressNotDeliverableError, mailing and claiming nothing', async () => {
      const legacy = { ...alice, email: 'j\u00f6rg@example.org' };
      store.putLegacyUser(legacy);

      const sending = service.send('alice');

      await expect(sending).rejects.toBeInstanceOf(EmailAddressNotDeliverableError);
      await expect(sending).rejects.toMatchObject({
        code: 'EMAIL_ADDRESS_NOT_DELIVERABLE',
        message: expect.not.stringContaining('j\u00f6rg'),
      });
      expect(mailer.attempts).toHaveLength(0);
      await expect(store.findByUsername('alice')).resolves.toEqual(legacy);
    });
  });

  describe('concurrent attempts', () => {
    beforeEach(async () => {
      await store.create(alice);
    });

    it('two concurrent sends mail exactly once; the other is told it is in progress', async () => {
      const results = await Promise.allSettled([mailAndRecord('alice'), mailAndRecord('alice')]);

      expect(mailer.attempts).toHaveLength(1);
      const fulfilled = results.filter((result) => result.status === 'fulfilled');
      const rejected = results.filter((result) => result.status === 'rejected');
      expect(fulfilled.map((result) => result.value)).toContainEqual(SENT);
      for (const result of rejected) {
        expect(result.reason).toBeInstanceOf(ActivationMailInProgressError);
      }
      for (const result of fulfilled.filter((r) => !r.value.sent)) {
        expect(result.value).toEqual({ sent: false, status: ActivationStatus.MAIL_SENT });
      }
    });

    it('ten concurrent sends mail exactly once', async () => {
      await Promise.allSettled(Array.from({ length: 10 }, () => mailAndRecord('alice')));

      expect(mailer.attempts).toHaveLength(1);
      await expect(store.findByUsername('alice')).resolves.toMatchObject({
        activationStatus: ActivationStatus.MAIL_SENT,
      });
    });
  });

  describe('when the mail service refuses the mail', () => {
    beforeEach(async () => {
      await store.create(alice);
      mailer.failNext('not-sent');
    });

    it('fails with MailDeliveryError (outcome known), keeping the cause', async () => {
      const sending = service.send('alice');

      await expect(sending).rejects.toBeInstanceOf(MailDeliveryError);
      await expect(sending).rejects.toMatchObject({
        code: 'MAIL_DELIVERY_FAILED',
        username: 'alice',
        outcomeUnknown: false,
        cause: expect.any(MailNotSentError),
      });
    });

    it('releases the claim and leaves the user in NONE', async () => {
      await expect(service.send('alice')).rejects.toBeInstanceOf(MailDeliveryError);

      const stored = await store.findByUsername('alice');
      expect(stored?.activationStatus).toBe(ActivationStatus.NONE);
      expect(stored).not.toHaveProperty('mailClaimId');
      expect(stored).not.toHaveProperty('mailClaimExpiresAt');
    });

    it('lets an immediate retry send exactly one mail', async () => {
      await expect(service.send('alice')).rejects.toBeInstanceOf(MailDeliveryError);

      const retry = await service.send('alice');

      expect(retry).toEqual(SENT);
      expect(mailer.sent).toHaveLength(1);
      expect(mailer.attempts).toHaveLength(2);
    });

    it('still reports the refusal when releasing the claim fails too', async () => {
      jest.spyOn(store, 'releaseActivationMailClaim').mockRejectedValue(new Error('network down'));

      await expect(service.send('alice')).rejects.toMatchObject({
        name: 'MailDeliveryError',
        outcomeUnknown: false,
      });
    });
  });

  describe('when the outcome of sending is unknown', () => {
    beforeEach(async () => {
      await store.create(alice);
      mailer.failNext('outcome-unknown');
    });

    it('fails with MailDeliveryError (outcome unknown), keeping the cause', async () => {
      const sending = service.send('alice');

      await expect(sending).rejects.toBeInstanceOf(MailDeliveryError);
      await expect(sending).rejects.toMatchObject({
        outcomeUnknown: true,
        cause: expect.objectContaining({ name: 'TimeoutError' }),
      });
    });

    it('keeps the claim: an immediate retry is told the mail is in progress and mails nothing', async () => {
      await expect(service.send('alice')).rejects.toBeInstanceOf(MailDeliveryError);

      const retry = service.send('alice');

      await expect(retry).rejects.toBeInstanceOf(ActivationMailInProgressError);
      expect(mailer.attempts).toHaveLength(1);
    });

    it('still refuses a retry just before the lease ends', async () => {
      await expect(service.send('alice')).rejects.toBeInstanceOf(MailDeliveryError);
      clock.advanceSeconds(LEASE_SECONDS - 1);

      await expect(service.send('alice')).rejects.toBeInstanceOf(ActivationMailInProgressError);
      expect(mailer.attempts).toHaveLength(1);
    });

    it('sends again once the lease has ended', async () => {
      await expect(service.send('alice')).rejects.toBeInstanceOf(MailDeliveryError);
      clock.advanceSeconds(LEASE_SECONDS + 1);

      const retry = await mailAndRecord('alice');

      expect(retry).toEqual({ ...SENT, sentAt: clock.now().toISOString() });
      expect(mailer.sent).toHaveLength(1);
      await expect(store.findByUsername('alice')).resolves.toMatchObject({
        activationStatus: ActivationStatus.MAIL_SENT,
      });
    });

    it('replaces the token of the earlier mail: only the newest link activates', async () => {
      await expect(service.send('alice')).rejects.toBeInstanceOf(MailDeliveryError);
      const oldToken = activationTokenIn(mailer.attempts[0]!);
      clock.advanceSeconds(LEASE_SECONDS + 1);
      await mailAndRecord('alice');
      const newToken = activationTokenIn(mailer.sent[0]!);
      const activation = new AccountActivationService(store, clock, new FakePasswordHasher());

      await expect(activation.activate('alice', oldToken, PASSWORD)).rejects.toBeInstanceOf(
        InvalidActivationLinkError,
      );
      await expect(activation.activate('alice', newToken, PASSWORD)).resolves.toMatchObject({
        outcome: 'ACTIVATED',
      });
      expect(newToken).not.toBe(oldToken);
    });
  });

  describe('when the store fails', () => {
    const failure = new Error('ProvisionedThroughputExceededException');

    beforeEach(async () => {
      await store.create(alice);
    });

    it.each(['findByUsername', 'claimActivationMail'] as const)(
      'fails with UserStoreError, keeping the cause, and mails nothing when %s fails',
      async (method) => {
        jest.spyOn(store, method).mockRejectedValue(failure);

        const sending = service.send('alice');

        await expect(sending).rejects.toBeInstanceOf(UserStoreError);
        await expect(sending).rejects.toMatchObject({ cause: failure });
        expect(mailer.attempts).toHaveLength(0);
      },
    );

    it('fails RecordMailSent with UserStoreError when the write fails, the mail already out', async () => {
      jest.spyOn(store, 'markMailSent').mockRejectedValue(failure);
      const outcome = await service.send('alice');

      const recording = service.recordMailSent('alice', outcome.sent ? outcome.claimId : '', NOW);

      await expect(recording).rejects.toBeInstanceOf(UserStoreError);
      await expect(recording).rejects.toMatchObject({ cause: failure });
      expect(mailer.sent).toHaveLength(1);
    });

    it('records on a retry of RecordMailSent after the write failed, mailing nothing again', async () => {
      jest.spyOn(store, 'markMailSent').mockRejectedValueOnce(failure);
      const outcome = await service.send('alice');
      const claimId = outcome.sent ? outcome.claimId : '';
      await expect(service.recordMailSent('alice', claimId, NOW)).rejects.toBeInstanceOf(
        UserStoreError,
      );

      await expect(service.recordMailSent('alice', claimId, NOW)).resolves.toEqual({
        recorded: true,
      });
      expect(mailer.attempts).toHaveLength(1);
      await expect(store.findByUsername('alice')).resolves.toMatchObject({
        activationStatus: ActivationStatus.MAIL_SENT,
      });
    });

    it('lets a domain error of the store through unchanged', async () => {
      const busy = new StoreBusyError();
      jest.spyOn(store, 'claimActivationMail').mockRejectedValue(busy);

      await expect(service.send('alice')).rejects.toBe(busy);
    });
  });

  describe('mail requests', () => {
    const active = async () => {
      await store.create(alice);
      await activateDirectly(store, 'alice', new Date(NOW));
    };

    it("mails an active account's open notice request once, with no link, and closes the request", async () => {
      await active();
      const request = newMailRequest(MailRequestKind.ALREADY_ACTIVE);
      await store.requestMail('alice', request, NOW);

      const outcome = await service.send('alice', request.id);
      if (!outcome.sent) throw new Error('no notice sent');
      await service.recordMailSent('alice', outcome.claimId, outcome.sentAt, outcome.notice);
      const again = await service.send('alice', request.id);

      expect(outcome.notice).toBe(true);
      expect(mailer.sent.map((mail) => mail.subject)).toEqual([
        ACCOUNT_NOTICE_SUBJECTS.ALREADY_ACTIVE,
      ]);
      expect(mailer.sent[0]!.text).toContain('https://cards.example/');
      expect(mailer.sent[0]!.text).not.toMatch(/token=/);
      expect(again).toEqual({ sent: false, status: ActivationStatus.DONE });
      const user = await store.findByUsername('alice');
      expect(user?.mailRequestId).toBeUndefined();
      expect(user?.activationStatus).toBe(ActivationStatus.DONE);
    });

    it('sends nothing for a request that a newer one replaced, and mails the newer one', async () => {
      await store.create(alice);
      const first = newMailRequest(MailRequestKind.ACTIVATION);
      const second = newMailRequest(MailRequestKind.ACTIVATION);
      await store.requestMail('alice', first, NOW);
      await store.requestMail('alice', second, NOW);

      const stale = await service.send('alice', first.id);
      const fresh = await service.send('alice', second.id);

      expect(stale).toEqual({ sent: false, status: ActivationStatus.NONE });
      expect(fresh).toMatchObject({ sent: true, notice: false });
      expect(mailer.sent).toHaveLength(1);
    });

    it('does not send a notice without its request id (an execution from before requests had ids)', async () => {
      await active();
      await store.requestMail('alice', newMailRequest(MailRequestKind.SIGN_UP_ATTEMPT), NOW);

      await expect(service.send('alice')).resolves.toEqual({
        sent: false,
        status: ActivationStatus.DONE,
      });
      expect(mailer.sent).toHaveLength(0);
    });
  });

  describe('password-reset mails', () => {
    const NEW_PASSWORD = 'a brand new passphrase';
    const RESET_PAGE = 'https://cards.example/password-reset/new';

    const active = async () => {
      await store.create(alice);
      await activateDirectly(store, 'alice', new Date(NOW));
    };

    /** "I forgot my password", as the endpoint asks for it; returns the open request's id. */
    async function requestReset(): Promise<string> {
      await expect(
        new PasswordResetRequestService(store, clock).request({ username: 'alice' }),
      ).resolves.toBe(true);
      const user = await store.findByUsername('alice');
      expect(user?.mailRequestKind).toBe(MailRequestKind.PASSWORD_RESET);
      return user!.mailRequestId!;
    }

    /** The state machine's run for `requestId`: send, then record with its result. */
    async function mailAndRecordRequest(requestId: string) {
      const outcome = await service.send('alice', requestId);
      if (outcome.sent) {
        await service.recordMailSent('alice', outcome.claimId, outcome.sentAt, outcome.notice);
      }
      return outcome;
    }

    const passwordChange = () => new PasswordChangeService(store, new FakePasswordHasher(), clock);

    it('mails an open PASSWORD_RESET request of an active account once, linking to the reset page', async () => {
      await active();
      const requestId = await requestReset();

      const outcome = await service.send('alice', requestId);

      expect(outcome).toEqual({ ...SENT, notice: true });
      expect(mailer.attempts).toHaveLength(1);
      expect(mailer.sent[0]).toMatchObject({
        to: 'Alice@example.org',
        subject: PASSWORD_RESET_MAIL_SUBJECT,
      });
      const link = activationLinkIn(mailer.sent[0]!);
      expect(`${link.origin}${link.pathname}`).toBe(RESET_PAGE);
      expect(link.searchParams.get('username')).toBe('alice');
      expect(link.searchParams.get('token')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });

    it('stores only the hash of the mailed reset token, expiring after the reset TTL, and leaves the activation token alone', async () => {
      await active();
      const before = await store.findByUsername('alice');
      await mailAndRecordRequest(await requestReset());

      const stored = (await store.findByUsername('alice'))!;
      const token = activationTokenIn(mailer.sent[0]!);
      expect(activationTokenMatches(token, stored.passwordResetTokenHash)).toBe(true);
      expect(activationTokenMatches(token, stored.activationTokenHash)).toBe(false);
      expect(stored.activationTokenHash).toBe(before?.activationTokenHash);
      expect(stored.passwordResetTokenExpiresAt).toBe('2026-01-15T11:00:00.000Z');
      expect(JSON.stringify(stored)).not.toContain(token);
      expect(mailer.sent[0]!.text).toContain('valid until 2026-01-15 11:00 UTC');
    });

    it('records the reset mail by closing its request, keeping its link alive: the mailed token resets the password', async () => {
      await active();
      const outcome = await mailAndRecordRequest(await requestReset());

      const recorded = await store.findByUsername('alice');
      expect(outcome.sent).toBe(true);
      expect(recorded?.mailRequestId).toBeUndefined();
      expect(recorded?.mailClaimId).toBeUndefined();
      expect(recorded?.activationStatus).toBe(ActivationStatus.DONE);
      const token = activationTokenIn(mailer.sent[0]!);
      await expect(passwordChange().reset('alice', token, NEW_PASSWORD)).resolves.toMatchObject({
        username: 'alice',
        activationStatus: ActivationStatus.DONE,
      });
      const { passwordHash } = (await store.findByUsername('alice'))!;
      await expect(new FakePasswordHasher().verify(NEW_PASSWORD, passwordHash!)).resolves.toBe(
        true,
      );
      await expect(new FakePasswordHasher().verify(PASSWORD, passwordHash!)).resolves.toBe(false);
    });

    it.each([ActivationStatus.NONE, ActivationStatus.MAIL_SENT])(
      'mails a pending account (status %s) a reset link, which activates it',
      async (activationStatus) => {
        await store.create({ ...alice, activationStatus });
        const outcome = await mailAndRecordRequest(await requestReset());

        expect(outcome).toEqual({ ...SENT, notice: true });
        expect(mailer.sent.map((mail) => mail.subject)).toEqual([PASSWORD_RESET_MAIL_SUBJECT]);
        await expect(
          passwordChange().reset('alice', activationTokenIn(mailer.sent[0]!), NEW_PASSWORD),
        ).resolves.toMatchObject({ activationStatus: ActivationStatus.DONE });
        await expect(store.findByUsername('alice')).resolves.toMatchObject({
          activationStatus: ActivationStatus.DONE,
        });
      },
    );

    it.each([
      ['an active account', ActivationStatus.DONE],
      ['a pending account', ActivationStatus.NONE],
    ])(
      'sends no second mail when the request is run again after its mail was recorded (%s)',
      async (_case, status) => {
        if (status === ActivationStatus.DONE) await active();
        else await store.create(alice);
        const requestId = await requestReset();
        await mailAndRecordRequest(requestId);
        const recorded = await store.findByUsername('alice');

        const again = await service.send('alice', requestId);

        expect(again).toEqual({ sent: false, status });
        expect(mailer.attempts).toHaveLength(1);
        await expect(store.findByUsername('alice')).resolves.toEqual(recorded);
      },
    );

    it('sends no second mail while the first attempt holds the claim: the retry is told it is in progress', async () => {
      await active();
      const requestId = await requestReset();
      await service.send('alice', requestId);
      const token = activationTokenIn(mailer.sent[0]!);

      await expect(service.send('alice', requestId)).rejects.toBeInstanceOf(
        ActivationMailInProgressError,
      );

      expect(mailer.attempts).toHaveLength(1);
      const stored = await store.findByUsername('alice');
      expect(activationTokenMatches(token, stored?.passwordResetTokenHash)).toBe(true);
    });

    it('of two concurrent runs of one request, exactly one mails', async () => {
      await active();
      const requestId = await requestReset();

      await Promise.allSettled([mailAndRecordRequest(requestId), mailAndRecordRequest(requestId)]);

      expect(mailer.attempts).toHaveLength(1);
    });

    it('after an unknown outcome, mails again only once the lease ended, and only the newest link resets', async () => {
      await active();
      const requestId = await requestReset();
      mailer.failNext('outcome-unknown');
      await expect(service.send('alice', requestId)).rejects.toBeInstanceOf(MailDeliveryError);
      await expect(service.send('alice', requestId)).rejects.toBeInstanceOf(
        ActivationMailInProgressError,
      );
      clock.advanceSeconds(LEASE_SECONDS + 1);

      await mailAndRecordRequest(requestId);

      expect(mailer.attempts).toHaveLength(2);
      const [oldToken, newToken] = mailer.attempts.map((mail) => activationTokenIn(mail));
      expect(newToken).not.toBe(oldToken);
      await expect(passwordChange().reset('alice', oldToken!, NEW_PASSWORD)).rejects.toBeInstanceOf(
        InvalidPasswordResetLinkError,
      );
      await expect(passwordChange().reset('alice', newToken!, NEW_PASSWORD)).resolves.toBeDefined();
    });

    it('sends nothing for a reset request that a newer one replaced; the older link dies', async () => {
      await active();
      const first = await requestReset();
      await mailAndRecordRequest(first);
      const oldToken = activationTokenIn(mailer.sent[0]!);
      const second = await requestReset();

      const stale = await service.send('alice', first);
      const fresh = await mailAndRecordRequest(second);

      expect(stale).toEqual({ sent: false, status: ActivationStatus.DONE });
      expect(fresh).toMatchObject({ sent: true, notice: true });
      expect(mailer.sent).toHaveLength(2);
      await expect(passwordChange().reset('alice', oldToken, NEW_PASSWORD)).rejects.toBeInstanceOf(
        InvalidPasswordResetLinkError,
      );
      await expect(
        passwordChange().reset('alice', activationTokenIn(mailer.sent[1]!), NEW_PASSWORD),
      ).resolves.toBeDefined();
    });

    it('links a base stored with a trailing slash to the sibling reset page too', async () => {
      await store.create({ ...alice, activationUrlBase: `${BASE}/` });
      await activateDirectly(store, 'alice', new Date(NOW));

      await mailAndRecordRequest(await requestReset());

      const link = activationLinkIn(mailer.sent[0]!);
      expect(`${link.origin}${link.pathname}`).toBe(RESET_PAGE);
    });

    it('does not mail a reset without its request id (an execution from before requests had ids)', async () => {
      await active();
      await requestReset();

      await expect(service.send('alice')).resolves.toEqual({
        sent: false,
        status: ActivationStatus.DONE,
      });
      expect(mailer.attempts).toHaveLength(0);
    });

    describe('the "password changed" notice', () => {
      /** The request a reset with the mailed link opened. */
      async function resetWithMailedLink(): Promise<string> {
        await active();
        await mailAndRecordRequest(await requestReset());
        await passwordChange().reset('alice', activationTokenIn(mailer.sent[0]!), NEW_PASSWORD);
        const user = await store.findByUsername('alice');
        expect(user?.mailRequestKind).toBe(MailRequestKind.PASSWORD_CHANGED);
        return user!.mailRequestId!;
      }

      it('is mailed once for the PASSWORD_CHANGED request a reset opened, and closes it', async () => {
        const requestId = await resetWithMailedLink();

        const outcome = await mailAndRecordRequest(requestId);
        const again = await service.send('alice', requestId);

        expect(outcome).toEqual({ ...SENT, notice: true });
        expect(again).toEqual({ sent: false, status: ActivationStatus.DONE });
        expect(mailer.sent.map((mail) => mail.subject)).toEqual([
          PASSWORD_RESET_MAIL_SUBJECT,
          ACCOUNT_NOTICE_SUBJECTS.PASSWORD_CHANGED,
        ]);
        expect(mailer.sent[1]!.to).toBe('Alice@example.org');
        expect((await store.findByUsername('alice'))?.mailRequestId).toBeUndefined();
      });

      it('links to the page that asks for a reset, and carries no token', async () => {
        await mailAndRecordRequest(await resetWithMailedLink());

        const notice = mailer.sent[1]!;
        expect(notice.text).toContain(
          'reset your password now at https://cards.example/password-reset,',
        );
        expect(notice.html).toContain(
          'reset your password now at https://cards.example/password-reset,',
        );
        expect(notice.text).toContain('sign in at https://cards.example/ with the new password');
        expect(notice.text).not.toMatch(/token=/);
        expect(notice.text).not.toContain(RESET_PAGE);
        expect(notice.html).not.toMatch(/token=/);
      });

      it('is not swallowed by a request someone opens by username right after the change', async () => {
        // Whoever changed the password (signed in with a stolen one) asks, unauthenticated,
        // for an activation mail and a reset of the account before the notice is claimed.
        await active();
        await passwordChange().changeSignedIn('alice', PASSWORD, NEW_PASSWORD);
        const changed = (await store.findByUsername('alice'))!.mailRequestId!;
        await expect(
          new ActivationMailRequestService(store, clock).request({ username: 'alice' }),
        ).resolves.toBe('NOTHING');
        await expect(
          new PasswordResetRequestService(store, clock).request({ username: 'alice' }),
        ).resolves.toBe(false);

        await expect(store.findByUsername('alice')).resolves.toMatchObject({
          mailRequestId: changed,
          mailRequestKind: MailRequestKind.PASSWORD_CHANGED,
        });
        await mailAndRecordRequest(changed);
        expect(mailer.sent.map((mail) => mail.subject)).toEqual([
          ACCOUNT_NOTICE_SUBJECTS.PASSWORD_CHANGED,
        ]);
      });

      it('holds its place for the hold only: a notice that never goes out blocks no later reset', async () => {
        await active();
        await passwordChange().changeSignedIn('alice', PASSWORD, NEW_PASSWORD);
        clock.advanceSeconds(PASSWORD_CHANGED_NOTICE_HOLD_SECONDS + 1);

        await expect(
          new PasswordResetRequestService(store, clock).request({ username: 'alice' }),
        ).resolves.toBe(true);
        await expect(store.findByUsername('alice')).resolves.toMatchObject({
          mailRequestKind: MailRequestKind.PASSWORD_RESET,
        });
      });

      it('once sent, lets the next request open at once', async () => {
        await active();
        await passwordChange().changeSignedIn('alice', PASSWORD, NEW_PASSWORD);
        await mailAndRecordRequest((await store.findByUsername('alice'))!.mailRequestId!);

        await expect(
          new PasswordResetRequestService(store, clock).request({ username: 'alice' }),
        ).resolves.toBe(true);
      });

      it('is mailed for a signed-in change too', async () => {
        await active();
        await passwordChange().changeSignedIn('alice', PASSWORD, NEW_PASSWORD);
        const requestId = (await store.findByUsername('alice'))!.mailRequestId!;

        await mailAndRecordRequest(requestId);

        expect(mailer.sent.map((mail) => mail.subject)).toEqual([
          ACCOUNT_NOTICE_SUBJECTS.PASSWORD_CHANGED,
        ]);
        expect(mailer.sent[0]!.text).toContain('https://cards.example/password-reset,');
      });
    });
  });
});
