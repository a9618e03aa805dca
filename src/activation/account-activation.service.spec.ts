import { AccountActivationService } from './account-activation.service';
import { ActivationStatus } from './activation-status';
import { InvalidActivationLinkError, InvalidCredentialsError } from './activation.errors';
import { hashActivationToken, mintActivationToken } from './activation-token';
import { SendActivationMailService } from './send-activation-mail.service';
import { FakePasswordHasher } from './testing/fake-password-hasher';
import { FixedClock } from './testing/fixed-clock';
import { InMemoryUserStore } from './testing/in-memory-user-store';
import { activationTokenIn, RecordingMailer } from './testing/recording-mailer';
import type { NewUserRecord } from './user';

const NOW = '2026-01-15T10:00:00.000Z';
const TOKEN_TTL_SECONDS = 24 * 3600;
const LEASE_SECONDS = 300;
const BASE = 'https://cards.example/activate';

const PASSWORD = 'correct horse battery staple';

const alice: NewUserRecord = {
  username: 'alice',
  email: 'alice@example.org',
  name: 'Alice Liddell',
  // What FakePasswordHasher makes of PASSWORD.
  passwordHash: `$fake$${Buffer.from(PASSWORD).toString('hex')}`,
  activationStatus: ActivationStatus.NONE,
  activationUrlBase: BASE,
  createdAt: '2026-01-15T09:59:00.000Z',
};

/** Plays the other browser tab: its click lands just before ours reaches the store. */
class RivalClickFirstStore extends InMemoryUserStore {
  override async activate(
    user: Pick<NewUserRecord, 'username' | 'email' | 'expiresAt'>,
    tokenHash: string,
    now: string,
  ): Promise<boolean> {
    await super.activate(user, tokenHash, now);
    return false;
  }
}

/** A store whose conditional write refuses without the user changing (e.g. it just expired). */
class RefusingActivateStore extends InMemoryUserStore {
  override async activate(): Promise<boolean> {
    return false;
  }
}

describe('AccountActivationService', () => {
  let store: InMemoryUserStore;
  let mailer: RecordingMailer;
  let clock: FixedClock;
  let service: AccountActivationService;

  /** The use case's outcome for the link's token and, unless given, the right password. */
  const activate = (username: string, token: string, password = PASSWORD) =>
    service.activate(username, token, password).then((activation) => activation.outcome);

  function mailService(): SendActivationMailService {
    return new SendActivationMailService(store, mailer, clock, {
      tokenTtlSeconds: TOKEN_TTL_SECONDS,
      passwordResetTokenTtlSeconds: 3600,
      claimLeaseSeconds: LEASE_SECONDS,
      allowedActivationUrlBases: [BASE],
    });
  }

  /** Mails `username` as the state machine does: send, then record MAIL_SENT. */
  async function mail(username: string): Promise<void> {
    const outcome = await mailService().send(username);
    if (outcome.sent) {
      await mailService().recordMailSent(username, outcome.claimId, outcome.sentAt);
    }
  }

  /** Registers alice in `store` and mails her; returns the mailed token. */
  async function mailedAlice(into: InMemoryUserStore = store): Promise<string> {
    store = into;
    await store.create(alice);
    await mail('alice');
    return activationTokenIn(mailer.sent.at(-1)!);
  }

  /** What activate() threw, for comparing errors. */
  async function refusal(username: string, token: string): Promise<unknown> {
    return activate(username, token).then(
      (outcome) => `resolved with ${outcome}`,
      (error: unknown) => error,
    );
  }

  beforeEach(() => {
    store = new InMemoryUserStore();
    mailer = new RecordingMailer();
    clock = new FixedClock(NOW);
    service = new AccountActivationService(store, clock, new FakePasswordHasher());
  });

  it('activates a mailed user with the mailed token', async () => {
    const token = await mailedAlice();
    clock.advanceSeconds(60);

    const outcome = await activate('alice', token);

    expect(outcome).toBe('ACTIVATED');
    await expect(store.findByUsername('alice')).resolves.toMatchObject({
      activationStatus: ActivationStatus.DONE,
      activatedAt: '2026-01-15T10:01:00.000Z',
    });
  });

  it('answers ALREADY_ACTIVE to a second click on the same link', async () => {
    const token = await mailedAlice();
    await activate('alice', token);

    const second = await activate('alice', token);

    expect(second).toBe('ALREADY_ACTIVE');
    await expect(store.findByUsername('alice')).resolves.toMatchObject({
      activationStatus: ActivationStatus.DONE,
      activatedAt: NOW,
    });
  });

  it('answers ALREADY_ACTIVE to the right token even after it expired', async () => {
    const token = await mailedAlice();
    await activate('alice', token);
    clock.advanceSeconds(TOKEN_TTL_SECONDS + 1);

    await expect(activate('alice', token)).resolves.toBe('ALREADY_ACTIVE');
  });

  it('activates just before the token expires', async () => {
    const token = await mailedAlice();
    clock.advanceSeconds(TOKEN_TTL_SECONDS - 1);

    await expect(activate('alice', token)).resolves.toBe('ACTIVATED');
  });

  it.each([
    ['when it expires', TOKEN_TTL_SECONDS],
    ['after it expired', TOKEN_TTL_SECONDS + 3600],
  ])(
    'refuses the token %s itself, not relying on the store, leaving the user MAIL_SENT',
    async (_case, seconds) => {
      const token = await mailedAlice();
      clock.advanceSeconds(seconds);
      const write = jest.spyOn(store, 'activate');

      await expect(activate('alice', token)).rejects.toBeInstanceOf(InvalidActivationLinkError);
      expect(write).not.toHaveBeenCalled();
      await expect(store.findByUsername('alice')).resolves.toMatchObject({
        activationStatus: ActivationStatus.MAIL_SENT,
      });
    },
  );

  it('refuses a well-formed token that is not the mailed one and leaves the user MAIL_SENT', async () => {
    await mailedAlice();

    await expect(activate('alice', mintActivationToken().token)).rejects.toBeInstanceOf(
      InvalidActivationLinkError,
    );
    await expect(store.findByUsername('alice')).resolves.toMatchObject({
      activationStatus: ActivationStatus.MAIL_SENT,
    });
  });

  it('refuses the stored hash presented as a token', async () => {
    await mailedAlice();
    const stored = (await store.findByUsername('alice'))!;

    await expect(activate('alice', stored.activationTokenHash!)).rejects.toBeInstanceOf(
      InvalidActivationLinkError,
    );
  });

  it('refuses the token of one user for another user', async () => {
    const aliceToken = await mailedAlice();
    await store.create({ ...alice, username: 'bob', email: 'bob@example.org' });
    await mail('bob');

    await expect(activate('bob', aliceToken)).rejects.toBeInstanceOf(InvalidActivationLinkError);
  });

  it('refuses a user who was never mailed (no token stored)', async () => {
    await store.create(alice);

    await expect(activate('alice', mintActivationToken().token)).rejects.toBeInstanceOf(
      InvalidActivationLinkError,
    );
  });

  it('refuses an unknown user', async () => {
    const token = await mailedAlice();

    await expect(activate('nobody', token)).rejects.toBeInstanceOf(InvalidActivationLinkError);
  });

  it.each([
    ['empty', ''],
    ['too short', 'ab'],
    ['too long', 'a'.repeat(33)],
    ['far too long for a DynamoDB key', 'a'.repeat(5000)],
    ['not normalised', 'Alice'],
    ['with a space', 'al ice'],
  ])('refuses a username that is %s without asking the store', async (_case, username) => {
    const token = await mailedAlice();
    const find = jest.spyOn(store, 'findByUsername');

    await expect(activate(username, token)).rejects.toBeInstanceOf(InvalidActivationLinkError);
    expect(find).not.toHaveBeenCalled();
  });

  it.each<[string, (token: string) => string]>([
    ['empty', () => ''],
    ['cut short', (token) => token.slice(1)],
    ['padded', (token) => `${token}=`],
    ['with surrounding space', (token) => ` ${token} `],
    ['still URL-encoded', (token) => encodeURIComponent(`${token.slice(1)}+`)],
  ])('refuses a malformed token (%s) without asking the store', async (_case, spoil) => {
    const token = await mailedAlice();
    const find = jest.spyOn(store, 'findByUsername');

    await expect(activate('alice', spoil(token))).rejects.toBeInstanceOf(
      InvalidActivationLinkError,
    );
    expect(find).not.toHaveBeenCalled();
  });

  it('refuses unknown user, wrong, expired and malformed tokens with one and the same error', async () => {
    const token = await mailedAlice();
    const wrong = await refusal('alice', mintActivationToken().token);
    const unknownUser = await refusal('nobody', token);
    const malformed = await refusal('alice', 'not-a-token');
    const invalidUsername = await refusal('', token);
    clock.advanceSeconds(TOKEN_TTL_SECONDS);
    const expired = await refusal('alice', token);

    const refusals = [wrong, unknownUser, malformed, invalidUsername, expired];
    for (const error of refusals) {
      expect(error).toBeInstanceOf(InvalidActivationLinkError);
      expect(error).toMatchObject({
        name: 'InvalidActivationLinkError',
        code: 'ACTIVATION_LINK_INVALID',
        message: 'This activation link is not valid or has expired.',
      });
    }
  });

  it('refuses a token replaced by a newer send attempt, even before the new mail went out', async () => {
    await store.create(alice);
    mailer.failNext('outcome-unknown');
    await expect(mailService().send('alice')).rejects.toThrow();
    const oldToken = activationTokenIn(mailer.attempts[0]!);
    clock.advanceSeconds(LEASE_SECONDS + 1);
    const newer = mintActivationToken();
    await store.claimActivationMail('alice', {
      claimId: 'newer-attempt',
      tokenHash: newer.hash,
      tokenExpiresAt: '2026-01-16T10:10:00.000Z',
      leaseExpiresAt: '2026-01-15T10:15:00.000Z',
      now: clock.now().toISOString(),
    });

    await expect(activate('alice', oldToken)).rejects.toBeInstanceOf(InvalidActivationLinkError);
    await expect(activate('alice', newer.token)).resolves.toBe('ACTIVATED');
  });

  it('activates a NONE user whose mail went out but was not yet marked MAIL_SENT', async () => {
    await store.create(alice);
    const token = mintActivationToken();
    await store.claimActivationMail('alice', {
      claimId: 'in-flight',
      tokenHash: token.hash,
      tokenExpiresAt: '2026-01-16T10:00:00.000Z',
      leaseExpiresAt: '2026-01-15T10:05:00.000Z',
      now: NOW,
    });

    await expect(activate('alice', token.token)).resolves.toBe('ACTIVATED');
  });

  it('says ALREADY_ACTIVE only to the holder of the token: a wrong token on a DONE user is invalid', async () => {
    const token = await mailedAlice();
    await activate('alice', token);

    await expect(activate('alice', mintActivationToken().token)).rejects.toBeInstanceOf(
      InvalidActivationLinkError,
    );
  });

  it('says ALREADY_ACTIVE when a concurrent click with the same token won the race', async () => {
    const token = await mailedAlice(new RivalClickFirstStore());
    service = new AccountActivationService(store, clock, new FakePasswordHasher());

    const outcome = await activate('alice', token);

    expect(outcome).toBe('ALREADY_ACTIVE');
    await expect(store.findByUsername('alice')).resolves.toMatchObject({
      activationStatus: ActivationStatus.DONE,
    });
  });

  it('refuses when the conditional write fails and the user is not DONE', async () => {
    const token = await mailedAlice(new RefusingActivateStore());
    service = new AccountActivationService(store, clock, new FakePasswordHasher());

    await expect(activate('alice', token)).rejects.toBeInstanceOf(InvalidActivationLinkError);
  });

  it('of two simultaneous clicks, one activates and the other is told ALREADY_ACTIVE', async () => {
    const token = await mailedAlice();

    const outcomes = await Promise.all([activate('alice', token), activate('alice', token)]);

    expect(outcomes.sort()).toEqual(['ACTIVATED', 'ALREADY_ACTIVE']);
  });

  it('asks the store to activate with the hash of the token, never the token', async () => {
    const token = await mailedAlice();
    const write = jest.spyOn(store, 'activate');

    await activate('alice', token);

    expect(write).toHaveBeenCalledWith(
      expect.objectContaining({ username: 'alice' }),
      hashActivationToken(token),
      NOW,
    );
  });

  describe('the password, the second proof', () => {
    it('activates nothing with the live token and a wrong password', async () => {
      const token = await mailedAlice();
      const write = jest.spyOn(store, 'activate');

      await expect(activate('alice', token, 'not her password')).rejects.toBeInstanceOf(
        InvalidCredentialsError,
      );
      expect(write).not.toHaveBeenCalled();
      await expect(store.findByUsername('alice')).resolves.toMatchObject({
        activationStatus: ActivationStatus.MAIL_SENT,
      });
    });

    it('says nothing about the password to someone without the live token', async () => {
      await mailedAlice();

      const withRight = await refusal('alice', mintActivationToken().token);
      const withWrong = await service
        .activate('alice', mintActivationToken().token, 'not her password')
        .then(String, (error: unknown) => error);

      expect(withRight).toBeInstanceOf(InvalidActivationLinkError);
      expect(withWrong).toEqual(withRight);
    });

    it('hands back the account, now DONE, for the session the caller starts', async () => {
      const token = await mailedAlice();

      const { passwordHash } = (await store.findByUsername('alice'))!;

      await expect(service.activate('alice', token, PASSWORD)).resolves.toEqual({
        outcome: 'ACTIVATED',
        user: {
          username: 'alice',
          email: 'alice@example.org',
          name: 'Alice Liddell',
          activationStatus: ActivationStatus.DONE,
        },
        passwordHash,
      });
    });

    it('wants the password for "already active" as well', async () => {
      const token = await mailedAlice();
      await activate('alice', token);

      await expect(activate('alice', token, 'not her password')).rejects.toBeInstanceOf(
        InvalidCredentialsError,
      );
    });
  });
});
