/**
 * PasswordChangeService over the in-memory store: a reset link sets a new password once
 * (and activates a pending account), a signed-in change needs the current password, and
 * every refusal writes nothing.
 */
import { ActivationStatus } from './activation-status';
import {
  InvalidPasswordResetLinkError,
  InvalidUserInputError,
  WrongPasswordError,
} from './activation.errors';
import { mintActivationToken } from './activation-token';
import { MAIL_REQUEST_ID_PATTERN, MailRequestKind, newMailRequest } from './mail-request';
import { PasswordChangeService } from './password-change.service';
import { SignInService } from './sign-in.service';
import { activateDirectly } from './testing/activate-directly';
import { FakePasswordHasher } from './testing/fake-password-hasher';
import { FixedClock } from './testing/fixed-clock';
import { InMemoryUserStore } from './testing/in-memory-user-store';
import type { NewUserRecord } from './user';

const NOW = '2026-01-15T10:00:00.000Z';
const nowSeconds = Date.parse(NOW) / 1000;
const later = (seconds: number) => new Date(Date.parse(NOW) + seconds * 1000).toISOString();
const RESET_TTL_SECONDS = 3600;

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'tr0ub4dor & three';
const hasher = new FakePasswordHasher();

/** A pending account whose activation mail went out: MAIL_SENT, expiring in an hour. */
const pending = (changes: Partial<NewUserRecord> = {}): NewUserRecord => ({
  username: 'alice',
  email: 'Alice@Example.org',
  name: 'Alice Liddell',
  // What FakePasswordHasher makes of PASSWORD.
  passwordHash: `$fake$${Buffer.from(PASSWORD).toString('hex')}`,
  activationStatus: ActivationStatus.MAIL_SENT,
  activationUrlBase: 'https://cards.example/activate',
  createdAt: '2026-01-15T09:00:00.000Z',
  activationTokenHash: 'a'.repeat(64),
  activationTokenExpiresAt: '2026-01-16T09:00:00.000Z',
  activationMailSentAt: '2026-01-15T09:00:05.000Z',
  expiresAt: nowSeconds + 2 * 3600,
  ...changes,
});

describe('PasswordChangeService', () => {
  let store: InMemoryUserStore;
  let clock: FixedClock;
  let service: PasswordChangeService;

  beforeEach(() => {
    store = new InMemoryUserStore();
    clock = new FixedClock(NOW);
    service = new PasswordChangeService(store, hasher, clock);
  });

  const alice = async () => (await store.findByUsername('alice'))!;

  /** Registers alice and activates her through the store's writes; returns her activation token. */
  async function activeAlice(): Promise<string> {
    await store.create(
      pending({
        activationStatus: ActivationStatus.NONE,
        activationTokenHash: undefined,
        activationTokenExpiresAt: undefined,
        activationMailSentAt: undefined,
      }),
    );
    return activateDirectly(store, 'alice', clock.now());
  }

  /**
   * What a reset request and its mail leave behind, through the store's own writes: an
   * open PASSWORD_RESET request, claimed with a live token, the mail recorded as sent.
   * @returns the token the mail carried
   */
  async function mailedResetToken(username = 'alice'): Promise<string> {
    const request = newMailRequest(MailRequestKind.PASSWORD_RESET);
    if (!(await store.requestMail(username, request, NOW))) throw new Error('no reset request');
    const minted = mintActivationToken();
    const claim = await store.claimPasswordResetMail(username, {
      claimId: `test-${request.id}`,
      requestId: request.id,
      tokenHash: minted.hash,
      tokenExpiresAt: later(RESET_TTL_SECONDS),
      leaseExpiresAt: later(60),
      now: NOW,
    });
    if (!claim.claimed) throw new Error(`cannot claim the reset mail: ${claim.reason}`);
    await store.markNoticeSent(username, `test-${request.id}`);
    return minted.token;
  }

  describe('reset (the reset link)', () => {
    describe('of an active account', () => {
      let token: string;

      beforeEach(async () => {
        await activeAlice();
        token = await mailedResetToken();
      });

      it('returns the public user, active', async () => {
        const user = await service.reset('alice', token, NEW_PASSWORD);

        expect(user).toEqual({
          username: 'alice',
          email: 'Alice@Example.org',
          name: 'Alice Liddell',
          activationStatus: ActivationStatus.DONE,
        });
      });

      it('stores the hash of the new password: it verifies, the old one no longer does', async () => {
        await service.reset('alice', token, NEW_PASSWORD);

        const { passwordHash } = await alice();
        await expect(hasher.verify(NEW_PASSWORD, passwordHash!)).resolves.toBe(true);
        await expect(hasher.verify(PASSWORD, passwordHash!)).resolves.toBe(false);
      });

      it('signs in with the new password, and no longer with the old one', async () => {
        await service.reset('alice', token, NEW_PASSWORD);

        const signIn = new SignInService(store, hasher, clock);
        await expect(signIn.signIn('alice', NEW_PASSWORD)).resolves.toMatchObject({
          user: { username: 'alice' },
        });
        await expect(signIn.signIn('alice', PASSWORD)).rejects.toMatchObject({
          code: 'INVALID_CREDENTIALS',
        });
      });

      it('opens a PASSWORD_CHANGED request, records the change and ends every session', async () => {
        const resetRequest = (await alice()).mailRequestId;

        await service.reset('alice', token, NEW_PASSWORD);

        const user = await alice();
        expect(user).toMatchObject({
          mailRequestKind: MailRequestKind.PASSWORD_CHANGED,
          mailRequestId: expect.stringMatching(MAIL_REQUEST_ID_PATTERN),
          passwordChangedAt: NOW,
        });
        expect(user.mailRequestId).not.toBe(resetRequest);
        expect(user.passwordResetTokenHash).toBeUndefined();
        expect(user.passwordResetTokenExpiresAt).toBeUndefined();
        expect(store.sessionsEndedAt('alice')).toBe(NOW);
      });

      it('keeps when the account was activated', async () => {
        const { activatedAt } = await alice();
        clock.advanceSeconds(60);

        await service.reset('alice', token, NEW_PASSWORD);

        expect((await alice()).activatedAt).toBe(activatedAt);
        expect(activatedAt).toBe(NOW);
      });

      it('works once: the used link is refused and the password stays the first new one', async () => {
        await service.reset('alice', token, NEW_PASSWORD);
        const after = store.all();

        await expect(service.reset('alice', token, 'a third password')).rejects.toBeInstanceOf(
          InvalidPasswordResetLinkError,
        );

        expect(store.all()).toEqual(after);
      });

      it('works until just before the link expires', async () => {
        clock.advanceSeconds(RESET_TTL_SECONDS - 0.001);

        await expect(service.reset('alice', token, NEW_PASSWORD)).resolves.toMatchObject({
          activationStatus: ActivationStatus.DONE,
        });
      });

      it('of two concurrent resets with one link, exactly one succeeds; the other is told the link is used', async () => {
        const results = await Promise.allSettled([
          service.reset('alice', token, 'first new password'),
          service.reset('alice', token, 'second new password'),
        ]);

        const fulfilled = results.filter((result) => result.status === 'fulfilled');
        const rejected = results.filter((result) => result.status === 'rejected');
        expect(fulfilled).toHaveLength(1);
        expect(rejected).toHaveLength(1);
        expect(rejected[0]!.reason).toBeInstanceOf(InvalidPasswordResetLinkError);
        const winner = results[0]!.status === 'fulfilled' ? 'first' : 'second';
        const { passwordHash } = await alice();
        await expect(hasher.verify(`${winner} new password`, passwordHash!)).resolves.toBe(true);
      });
    });

    describe('of a pending account', () => {
      it.each([ActivationStatus.NONE, ActivationStatus.MAIL_SENT])(
        'in status %s: activates it for good (the link proves the mailbox)',
        async (activationStatus) => {
          await store.create(pending({ activationStatus }));
          const token = await mailedResetToken();
          clock.advanceSeconds(60);

          const user = await service.reset('alice', token, NEW_PASSWORD);

          expect(user.activationStatus).toBe(ActivationStatus.DONE);
          const stored = await alice();
          expect(stored).toMatchObject({
            activationStatus: ActivationStatus.DONE,
            activatedAt: later(60),
            passwordChangedAt: later(60),
            mailRequestKind: MailRequestKind.PASSWORD_CHANGED,
          });
          expect(stored.expiresAt).toBeUndefined();
          expect(stored.activationTokenHash).toBeUndefined();
          // The e-mail claim no longer expires either: the address stays the account's.
          expect(store.emailClaim('alice@example.org')).toEqual({ username: 'alice' });
          await expect(hasher.verify(NEW_PASSWORD, stored.passwordHash!)).resolves.toBe(true);
          // And it is an account one can sign in to, long after it would have expired.
          clock.advanceSeconds(365 * 24 * 3600);
          await expect(
            new SignInService(store, hasher, clock).signIn('alice', NEW_PASSWORD),
          ).resolves.toMatchObject({ user: { activationStatus: ActivationStatus.DONE } });
        },
      );

      it('refuses the link of an account that expired as pending, writing nothing', async () => {
        await store.create(pending({ expiresAt: nowSeconds + 600 }));
        const token = await mailedResetToken();
        clock.advanceSeconds(600);
        const before = store.all();
        const changePassword = jest.spyOn(store, 'changePassword');

        await expect(service.reset('alice', token, NEW_PASSWORD)).rejects.toBeInstanceOf(
          InvalidPasswordResetLinkError,
        );

        expect(changePassword).not.toHaveBeenCalled();
        expect(store.all()).toEqual(before);
      });
    });

    describe('refuses an invalid link with InvalidPasswordResetLinkError, writing nothing', () => {
      let token: string;
      let activationToken: string;

      beforeEach(async () => {
        activationToken = await activeAlice();
        token = await mailedResetToken();
      });

      async function expectRefusedWithoutWrite(reset: () => Promise<unknown>) {
        const before = store.all();
        const changePassword = jest.spyOn(store, 'changePassword');

        const resetting = reset();

        await expect(resetting).rejects.toBeInstanceOf(InvalidPasswordResetLinkError);
        await expect(resetting).rejects.toMatchObject({ code: 'PASSWORD_RESET_LINK_INVALID' });
        expect(changePassword).not.toHaveBeenCalled();
        expect(store.all()).toEqual(before);
        expect(store.sessionsEndedAt('alice')).toBeUndefined();
      }

      it('a wrong token', async () => {
        await expectRefusedWithoutWrite(() =>
          service.reset('alice', mintActivationToken().token, NEW_PASSWORD),
        );
      });

      it("the account's activation token (it is no reset token)", async () => {
        await expectRefusedWithoutWrite(() =>
          service.reset('alice', activationToken, NEW_PASSWORD),
        );
      });

      it("another account's reset token", async () => {
        await store.create(pending({ username: 'bob', email: 'bob@example.org' }));
        const bobs = await mailedResetToken('bob');

        await expectRefusedWithoutWrite(() => service.reset('alice', bobs, NEW_PASSWORD));
      });

      it('an unknown user', async () => {
        await expectRefusedWithoutWrite(() => service.reset('nobody', token, NEW_PASSWORD));
      });

      it.each([
        ['when it expires', RESET_TTL_SECONDS],
        ['after it expired', RESET_TTL_SECONDS + 1],
      ])('the right token %s', async (_case, seconds) => {
        clock.advanceSeconds(seconds);

        await expectRefusedWithoutWrite(() => service.reset('alice', token, NEW_PASSWORD));
      });

      it('a link that a newer reset request killed', async () => {
        await store.requestMail('alice', newMailRequest(MailRequestKind.PASSWORD_RESET), NOW);

        await expectRefusedWithoutWrite(() => service.reset('alice', token, NEW_PASSWORD));
      });

      it('a live token of another account, given for one that has no reset token', async () => {
        await store.create(pending({ username: 'bob', email: 'bob@example.org' }));

        await expectRefusedWithoutWrite(() => service.reset('bob', token, NEW_PASSWORD));
      });

      it.each([
        ['empty', ''],
        ['too short', 'abc'],
        ['one character too long', 'x'.repeat(44)],
        ['padded', 'x'.repeat(42) + '='],
        ['not base64url', 'x'.repeat(42) + '+'],
      ])('a token that is %s, without looking up any account', async (_case, malformed) => {
        const findByUsername = jest.spyOn(store, 'findByUsername');

        await expectRefusedWithoutWrite(() => service.reset('alice', malformed, NEW_PASSWORD));

        expect(findByUsername).not.toHaveBeenCalled();
      });

      it.each([
        ['empty', ''],
        ['in capitals (links carry the stored username)', 'ALICE'],
        ['longer than any username', 'a'.repeat(33)],
        ['the decoy of no account', '#no-account'],
      ])('a username that is %s, without looking up any account', async (_case, username) => {
        const findByUsername = jest.spyOn(store, 'findByUsername');

        await expectRefusedWithoutWrite(() => service.reset(username, token, NEW_PASSWORD));

        expect(findByUsername).not.toHaveBeenCalled();
      });

      it('the same error for every reason, so none can be told apart', async () => {
        const refusal = (username: string, candidate: string) =>
          service.reset(username, candidate, NEW_PASSWORD).then(
            () => 'resolved',
            (error: unknown) => error,
          );

        const errors = [
          await refusal('nobody', token),
          await refusal('alice', mintActivationToken().token),
          await refusal('alice', 'malformed'),
        ];
        clock.advanceSeconds(RESET_TTL_SECONDS);
        errors.push(await refusal('alice', token));

        for (const error of errors) {
          expect(error).toBeInstanceOf(InvalidPasswordResetLinkError);
          expect(error).toEqual(new InvalidPasswordResetLinkError());
        }
      });
    });

    describe('the rules for the new password', () => {
      let token: string;

      beforeEach(async () => {
        await activeAlice();
        token = await mailedResetToken();
      });

      it.each([
        ['shorter than 8 characters', 'seven77', 'password must be 8 to 128 characters long'],
        [
          'longer than 128 characters',
          'x'.repeat(129),
          'password must be 8 to 128 characters long',
        ],
        ['not valid Unicode', 'password\udc00', 'password must be valid Unicode text'],
      ])(
        'refuses one %s on field "password", writing nothing and leaving the link alive',
        async (_case, password, message) => {
          const before = store.all();

          const resetting = service.reset('alice', token, password);

          await expect(resetting).rejects.toBeInstanceOf(InvalidUserInputError);
          await expect(resetting).rejects.toMatchObject({
            code: 'VALIDATION_FAILED',
            errors: [{ field: 'password', messages: [message] }],
          });
          expect(store.all()).toEqual(before);
          await expect(service.reset('alice', token, NEW_PASSWORD)).resolves.toMatchObject({
            username: 'alice',
          });
        },
      );

      it.each([
        ['8 characters', 'eight888'],
        ['8 code points (16 UTF-16 units)', '🔑🔑🔑🔑🔑🔑🔑🔑'],
        ['128 characters', 'x'.repeat(128)],
      ])('accepts one of %s', async (_case, password) => {
        await service.reset('alice', token, password);

        await expect(hasher.verify(password, (await alice()).passwordHash!)).resolves.toBe(true);
      });
    });
  });

  describe('changeSignedIn (with the current password)', () => {
    beforeEach(async () => {
      await activeAlice();
    });

    it('returns the public user and the new hash, which is the stored one', async () => {
      const changed = await service.changeSignedIn('alice', PASSWORD, NEW_PASSWORD);

      const stored = await alice();
      expect(changed).toEqual({
        user: {
          username: 'alice',
          email: 'Alice@Example.org',
          name: 'Alice Liddell',
          activationStatus: ActivationStatus.DONE,
        },
        passwordHash: stored.passwordHash,
      });
      await expect(hasher.verify(NEW_PASSWORD, changed.passwordHash)).resolves.toBe(true);
      await expect(hasher.verify(PASSWORD, stored.passwordHash!)).resolves.toBe(false);
    });

    it('opens a PASSWORD_CHANGED request, records the change and ends every session', async () => {
      clock.advanceSeconds(30);

      await service.changeSignedIn('alice', PASSWORD, NEW_PASSWORD);

      expect(await alice()).toMatchObject({
        mailRequestKind: MailRequestKind.PASSWORD_CHANGED,
        mailRequestId: expect.stringMatching(MAIL_REQUEST_ID_PATTERN),
        passwordChangedAt: later(30),
        activatedAt: NOW,
      });
      expect(store.sessionsEndedAt('alice')).toBe(later(30));
    });

    it('kills a reset link mailed before', async () => {
      const token = await mailedResetToken();

      await service.changeSignedIn('alice', PASSWORD, NEW_PASSWORD);

      await expect(service.reset('alice', token, 'yet another password')).rejects.toBeInstanceOf(
        InvalidPasswordResetLinkError,
      );
      await expect(hasher.verify(NEW_PASSWORD, (await alice()).passwordHash!)).resolves.toBe(true);
    });

    it('checks the current password with the hasher (NFC, as it was hashed)', async () => {
      // "é" typed as e + combining accent: the same password to the hasher.
      await store.create(
        pending({
          username: 'zoe',
          email: 'zoe@example.org',
          activationStatus: ActivationStatus.NONE,
          passwordHash: await hasher.hash('Zo\u00e9 secret'),
        }),
      );
      await activateDirectly(store, 'zoe', clock.now());

      await expect(
        service.changeSignedIn('zoe', 'Zoe\u0301 secret', NEW_PASSWORD),
      ).resolves.toMatchObject({ user: { username: 'zoe' } });
    });

    describe('refuses with WrongPasswordError, changing nothing', () => {
      async function expectWrongPassword(change: () => Promise<unknown>) {
        const before = store.all();
        const changePassword = jest.spyOn(store, 'changePassword');

        const changing = change();

        await expect(changing).rejects.toBeInstanceOf(WrongPasswordError);
        await expect(changing).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
        expect(changePassword).not.toHaveBeenCalled();
        expect(store.all()).toEqual(before);
        expect(store.sessionsEndedAt('alice')).toBeUndefined();
      }

      it('a wrong current password', async () => {
        await expectWrongPassword(() =>
          service.changeSignedIn('alice', 'not the password', NEW_PASSWORD),
        );
        // The old password still works; the refused new one does not.
        const { passwordHash } = await alice();
        await expect(hasher.verify(PASSWORD, passwordHash!)).resolves.toBe(true);
        await expect(hasher.verify(NEW_PASSWORD, passwordHash!)).resolves.toBe(false);
      });

      it('the new password given as the current one', async () => {
        await expectWrongPassword(() =>
          service.changeSignedIn('alice', NEW_PASSWORD, NEW_PASSWORD),
        );
      });

      it('an unknown user', async () => {
        await expectWrongPassword(() => service.changeSignedIn('nobody', PASSWORD, NEW_PASSWORD));
      });

      it.each([ActivationStatus.NONE, ActivationStatus.MAIL_SENT])(
        'a pending account (status %s), even with its right password',
        async (activationStatus) => {
          await store.create(
            pending({ username: 'bob', email: 'bob@example.org', activationStatus }),
          );

          await expectWrongPassword(() => service.changeSignedIn('bob', PASSWORD, NEW_PASSWORD));
        },
      );

      it('a stored hash the hasher did not make', async () => {
        store.putLegacyUser({ ...(await alice()), passwordHash: 'plain:' + PASSWORD });

        await expectWrongPassword(() => service.changeSignedIn('alice', PASSWORD, NEW_PASSWORD));
      });
    });

    it('of two concurrent changes with the same current password, exactly one succeeds', async () => {
      const results = await Promise.allSettled([
        service.changeSignedIn('alice', PASSWORD, 'first new password'),
        service.changeSignedIn('alice', PASSWORD, 'second new password'),
      ]);

      const rejected = results.filter((result) => result.status === 'rejected');
      expect(rejected).toHaveLength(1);
      expect(rejected[0]!.reason).toBeInstanceOf(WrongPasswordError);
      const winner = results.find((result) => result.status === 'fulfilled');
      expect(winner?.status === 'fulfilled' && winner.value.passwordHash).toBe(
        (await alice()).passwordHash,
      );
    });

    it.each([
      ['shorter than 8 characters', 'seven77', 'password must be 8 to 128 characters long'],
      ['not valid Unicode', 'password\udc00', 'password must be valid Unicode text'],
    ])(
      'refuses a new password %s on field "newPassword", changing nothing',
      async (_case, password, message) => {
        const before = store.all();

        const changing = service.changeSignedIn('alice', PASSWORD, password);

        await expect(changing).rejects.toBeInstanceOf(InvalidUserInputError);
        await expect(changing).rejects.toMatchObject({
          errors: [{ field: 'newPassword', messages: [message] }],
        });
        expect(store.all()).toEqual(before);
      },
    );
  });
});
