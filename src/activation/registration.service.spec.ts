import { ActivationStatus } from './activation-status';
import { EmailTakenError, InvalidUserInputError, UsernameTakenError } from './activation.errors';
import { MAIL_REQUEST_ID_PATTERN, MailRequestKind } from './mail-request';
import { Argon2idPasswordHasher } from './password-hasher';
import { RegistrationService, SIGN_UP_NOTICE_QUIET_SECONDS } from './registration.service';
import { activateDirectly, claimTokenDirectly } from './testing/activate-directly';
import { FakePasswordHasher } from './testing/fake-password-hasher';
import { FixedClock } from './testing/fixed-clock';
import { InMemoryUserStore } from './testing/in-memory-user-store';
import type { NewUserRecord } from './user';
import { emailKey } from './user-rules';

const ACTIVATION_URL_BASE = 'https://cards.example/activate';
const NOW = '2026-03-01T08:30:00.000Z';
const PENDING_TTL_SECONDS = 7 * 24 * 3600;
const OTHER_PASSWORD = 'down the rabbit hole';

const alice = {
  username: 'alice',
  email: 'alice@example.org',
  name: 'Alice Liddell',
  password: 'through the looking glass',
};

const bob = {
  username: 'bob',
  email: 'bob@example.org',
  name: 'Bob Builder',
  password: 'can we fix it yes we can',
};

/** What every registration answers, whatever was stored: the account as registered. */
const answerFor = (registration: { username: string; email: string; name: string }) => ({
  username: registration.username,
  email: registration.email,
  name: registration.name,
  activationStatus: ActivationStatus.NONE,
});

const epochSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

describe('RegistrationService', () => {
  let store: InMemoryUserStore;
  let hasher: FakePasswordHasher;
  let clock: FixedClock;
  let service: RegistrationService;

  beforeEach(() => {
    store = new InMemoryUserStore();
    hasher = new FakePasswordHasher();
    clock = new FixedClock(NOW);
    service = new RegistrationService(store, hasher, clock, {
      activationUrlBase: ACTIVATION_URL_BASE,
      pendingAccountTtlSeconds: PENDING_TTL_SECONDS,
    });
  });

  /** Registers alice and activates her account, as her mail and a click would. */
  async function activeAlice(): Promise<NewUserRecord> {
    await service.register(alice);
    await activateDirectly(store, 'alice', clock.now());
    return (await store.findByUsername('alice')) as NewUserRecord;
  }

  /** Registers alice and gives her a live token, as her activation mail would. */
  async function mailedAlice(): Promise<NewUserRecord> {
    await service.register(alice);
    const now = clock.now();
    const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);
    const { claimId } = await claimTokenDirectly(store, 'alice', {
      now,
      tokenExpiresAt: later(3600),
      leaseExpiresAt: later(60),
    });
    await store.markMailSent('alice', claimId, now.toISOString());
    return (await store.findByUsername('alice')) as NewUserRecord;
  }

  it('stores the new user in status NONE with the configured activation URL and the current time', async () => {
    await service.register(alice);

    const stored = await store.findByUsername('alice');
    expect(stored).toEqual({
      username: 'alice',
      // Pending for PENDING_ACCOUNT_TTL_SECONDS from now, then gone.
      expiresAt: Date.parse(NOW) / 1000 + PENDING_TTL_SECONDS,
      email: 'alice@example.org',
      name: 'Alice Liddell',
      passwordHash: expect.any(String),
      activationStatus: ActivationStatus.NONE,
      activationUrlBase: ACTIVATION_URL_BASE,
      createdAt: NOW,
      // The open request whose stream record starts the activation mail.
      mailRequestId: expect.stringMatching(MAIL_REQUEST_ID_PATTERN),
      mailRequestKind: MailRequestKind.ACTIVATION,
    });
  });

  it('claims the address for the new user, with the same expiry', async () => {
    await service.register({ ...alice, email: 'Alice@Example.org' });

    expect(store.emailClaim('alice@example.org')).toEqual({
      username: 'alice',
      expiresAt: Date.parse(NOW) / 1000 + PENDING_TTL_SECONDS,
    });
  });

  it('opens a new request with every registration', async () => {
    await service.register(alice);
    await service.register(bob);

    const [first, second] = [
      await store.findByUsername('alice'),
      await store.findByUsername('bob'),
    ];
    expect(first?.mailRequestId).not.toBe(second?.mailRequestId);
  });

  it('stores a hash of the password made by the hasher, not the password', async () => {
    await service.register(alice);

    const stored = await store.findByUsername('alice');
    expect(stored?.passwordHash).not.toBe(alice.password);
    expect(stored?.passwordHash).not.toContain(alice.password);
    await expect(hasher.verify(alice.password, stored!.passwordHash!)).resolves.toBe(true);
  });

  it('stores an Argon2id hash when given the real hasher', async () => {
    const cheapArgon2 = new Argon2idPasswordHasher({ memory: 8_192, passes: 1, parallelism: 1 });
    const real = new RegistrationService(store, cheapArgon2, new FixedClock(NOW), {
      activationUrlBase: ACTIVATION_URL_BASE,
      pendingAccountTtlSeconds: PENDING_TTL_SECONDS,
    });

    await real.register(alice);

    const stored = await store.findByUsername('alice');
    expect(stored?.passwordHash).toMatch(/^\$argon2id\$v=19\$m=8192,t=1,p=1\$/);
    await expect(cheapArgon2.verify(alice.password, stored!.passwordHash!)).resolves.toBe(true);
  });

  it('returns the public user, without the password hash', async () => {
    const user = await service.register(alice);

    expect(user).toEqual({
      username: 'alice',
      email: 'alice@example.org',
      name: 'Alice Liddell',
      activationStatus: ActivationStatus.NONE,
    });
    expect(user).not.toHaveProperty('passwordHash');
  });

  it('stores the normalised input: username lower-cased, email trimmed, name in NFC', async () => {
    await service.register({
      username: '  Alice ',
      email: ' Alice@Example.org ',
      name: ' Rene\u0301e ',
      password: alice.password,
    });

    const stored = await store.findByUsername('alice');
    expect(stored).toMatchObject({
      username: 'alice',
      email: 'Alice@Example.org',
      name: 'Ren\u00e9e',
    });
  });

  it('takes createdAt from the clock at the time of registration', async () => {
    clock.set('2027-12-31T23:59:59.000Z');

    await service.register(alice);

    expect((await store.findByUsername('alice'))?.createdAt).toBe('2027-12-31T23:59:59.000Z');
  });

  it('refuses broken input with InvalidUserInputError, storing and hashing nothing', async () => {
    const hash = jest.spyOn(hasher, 'hash');

    const registering = service.register({ ...alice, email: 'not an address', password: 'short' });

    await expect(registering).rejects.toBeInstanceOf(InvalidUserInputError);
    await expect(registering).rejects.toMatchObject({
      errors: [{ field: 'email' }, { field: 'password' }],
    });
    expect(store.all()).toEqual([]);
    expect(hash).not.toHaveBeenCalled();
  });

  describe('a taken username (usernames are public: 409, whoever asks)', () => {
    it('refuses a pending account’s username, whatever its case, with another password', async () => {
      await service.register(alice);
      const before = store.all();

      const registering = service.register({
        ...alice,
        username: 'ALICE',
        email: 'other@example.org',
        password: OTHER_PASSWORD,
      });

      await expect(registering).rejects.toBeInstanceOf(UsernameTakenError);
      await expect(registering).rejects.toMatchObject({
        code: 'USERNAME_TAKEN',
        username: 'alice',
      });
      expect(store.all()).toEqual(before);
      expect(store.emailClaim('other@example.org')).toBeUndefined();
    });

    it('refuses the username of a pending account that was mailed its link, with another password', async () => {
      const before = await mailedAlice();

      await expect(
        service.register({ ...bob, username: 'alice', password: OTHER_PASSWORD }),
      ).rejects.toBeInstanceOf(UsernameTakenError);
      expect(store.all()).toEqual([before]);
    });

    it.each([
      ['its own password and address', alice],
      ['another password and address', { ...bob, username: 'alice' }],
    ])(
      'refuses an active account’s username with %s, writing nothing (no notice either)',
      async (_case, registration) => {
        const before = await activeAlice();

        await expect(service.register(registration)).rejects.toBeInstanceOf(UsernameTakenError);
        expect(store.all()).toEqual([before]);
        expect(store.emailClaim('bob@example.org')).toBeUndefined();
      },
    );

    it('reports the username first when both username and email are taken', async () => {
      await service.register(alice);
      const before = store.all();

      // Not a takeover of the (pending) address, nor a typo fix: the password is not hers.
      await expect(service.register({ ...alice, password: OTHER_PASSWORD })).rejects.toBeInstanceOf(
        UsernameTakenError,
      );
      expect(store.all()).toEqual(before);
    });

    it('lets the email address of a refused registration be used by another', async () => {
      await service.register(alice);
      await expect(
        service.register({ ...alice, email: 'carol@example.org', password: OTHER_PASSWORD }),
      ).rejects.toBeInstanceOf(UsernameTakenError);

      const carol = await service.register({
        ...alice,
        username: 'carol',
        email: 'carol@example.org',
      });

      expect(carol.username).toBe('carol');
      expect(store.emailClaim('carol@example.org')).toMatchObject({ username: 'carol' });
      expect(await store.findByUsername('alice')).toMatchObject({ email: 'alice@example.org' });
    });
  });

  describe('a new username with the address of an active account', () => {
    const stranger = { ...bob, email: ' ALICE@example.ORG ' };

    it('is answered as a success, in another letter case too, storing nothing for the new username', async () => {
      const owner = await activeAlice();

      const answer = await service.register(stranger);

      expect(answer).toEqual(answerFor({ ...bob, email: 'ALICE@example.ORG' }));
      expect(await store.findByUsername('bob')).toBeUndefined();
      expect(store.all().map((user) => user.username)).toEqual(['alice']);
      expect(store.emailClaim(emailKey(owner.email))).toEqual({ username: 'alice' });
    });

    it('asks for a SIGN_UP_ATTEMPT notice on the owner’s item, changing nothing else of it', async () => {
      const owner = await activeAlice();

      await service.register(stranger);

      expect(await store.findByUsername('alice')).toEqual({
        ...owner,
        mailRequestId: expect.stringMatching(MAIL_REQUEST_ID_PATTERN),
        mailRequestKind: MailRequestKind.SIGN_UP_ATTEMPT,
        signUpNoticeRequestedAt: NOW,
      });
    });

    it(`asks at most once per ${SIGN_UP_NOTICE_QUIET_SECONDS} s: an attempt within it writes nothing, answered alike`, async () => {
      await activeAlice();
      await service.register(stranger);
      const afterFirst = store.all();
      clock.advanceSeconds(SIGN_UP_NOTICE_QUIET_SECONDS - 1);

      const second = await service.register({ ...stranger, username: 'carol' });

      expect(second).toEqual(
        answerFor({ ...stranger, username: 'carol', email: 'ALICE@example.ORG' }),
      );
      expect(store.all()).toEqual(afterFirst);
    });

    it('asks again once the quiet period is over, with a new request', async () => {
      await activeAlice();
      await service.register(stranger);
      const first = (await store.findByUsername('alice'))!;
      clock.advanceSeconds(SIGN_UP_NOTICE_QUIET_SECONDS);

      await service.register(stranger);

      const second = (await store.findByUsername('alice'))!;
      expect(second).toEqual({
        ...first,
        mailRequestId: expect.stringMatching(MAIL_REQUEST_ID_PATTERN),
        signUpNoticeRequestedAt: clock.now().toISOString(),
      });
      expect(second.mailRequestId).not.toBe(first.mailRequestId);
      expect(await store.findByUsername('bob')).toBeUndefined();
    });

    it('leaves the username free: it can then be registered with an address of its own', async () => {
      await activeAlice();
      await service.register(stranger);

      await service.register(bob);

      expect(await store.findByUsername('bob')).toMatchObject({ email: bob.email });
      expect(store.emailClaim('bob@example.org')).toMatchObject({ username: 'bob' });
    });
  });

  describe('a new username with the address of a pending account', () => {
    it.each([
      ['pending (status NONE)', () => service.register(alice)],
      ['mailed its link (status MAIL_SENT)', mailedAlice],
    ])(
      'takes it over from an account %s: that account is deleted, the claim is the new user’s',
      async (_case, pendingAlice) => {
        await pendingAlice();
        clock.advanceSeconds(60);

        const answer = await service.register({ ...bob, email: 'ALICE@Example.org' });

        expect(answer).toEqual(answerFor({ ...bob, email: 'ALICE@Example.org' }));
        expect(await store.findByUsername('alice')).toBeUndefined();
        expect(await store.findByUsername('bob')).toEqual({
          username: 'bob',
          email: 'ALICE@Example.org',
          name: bob.name,
          passwordHash: expect.any(String),
          activationStatus: ActivationStatus.NONE,
          activationUrlBase: ACTIVATION_URL_BASE,
          createdAt: clock.now().toISOString(),
          expiresAt: epochSeconds(clock.now().toISOString()) + PENDING_TTL_SECONDS,
          mailRequestId: expect.stringMatching(MAIL_REQUEST_ID_PATTERN),
          mailRequestKind: MailRequestKind.ACTIVATION,
        });
        expect(store.emailClaim('alice@example.org')).toEqual({
          username: 'bob',
          expiresAt: epochSeconds(clock.now().toISOString()) + PENDING_TTL_SECONDS,
        });
        expect(store.all()).toHaveLength(1);
      },
    );
  });

  describe('the typo fix: a pending account’s username with its own password', () => {
    it('updates the same item: address, name, a new ACTIVATION request, NONE, no token, expiry renewed', async () => {
      const before = await mailedAlice();
      clock.advanceSeconds(3600);
      const now = clock.now().toISOString();

      const answer = await service.register({
        ...alice,
        email: 'alice.liddell@example.org',
        name: 'Alice P. Liddell',
      });

      expect(answer).toEqual(
        answerFor({ ...alice, email: 'alice.liddell@example.org', name: 'Alice P. Liddell' }),
      );
      const {
        activationTokenHash: _token,
        activationTokenExpiresAt: _tokenEnd,
        mailClaimId: _claim,
        mailClaimExpiresAt: _lease,
        ...kept
      } = before;
      expect(before.activationTokenHash).toEqual(expect.any(String));
      const stored = await store.findByUsername('alice');
      expect(stored).toEqual({
        ...kept,
        email: 'alice.liddell@example.org',
        name: 'Alice P. Liddell',
        activationStatus: ActivationStatus.NONE,
        passwordHash: before.passwordHash,
        createdAt: now,
        expiresAt: epochSeconds(now) + PENDING_TTL_SECONDS,
        mailRequestId: expect.stringMatching(MAIL_REQUEST_ID_PATTERN),
        mailRequestKind: MailRequestKind.ACTIVATION,
      });
      expect(stored?.mailRequestId).not.toBe(before.mailRequestId);
      expect(store.all()).toHaveLength(1);
    });

    it('moves the claim to the new address and removes the old one', async () => {
      await service.register(alice);
      clock.advanceSeconds(60);

      await service.register({ ...alice, email: 'Alice.Liddell@example.org' });

      expect(store.emailClaim('alice@example.org')).toBeUndefined();
      expect(store.emailClaim('alice.liddell@example.org')).toEqual({
        username: 'alice',
        expiresAt: epochSeconds(clock.now().toISOString()) + PENDING_TTL_SECONDS,
      });
    });

    it('keeps its own address (a new name only), the claim renewed with the new expiry', async () => {
      const before = await mailedAlice();
      clock.advanceSeconds(3600);

      await service.register({ ...alice, email: 'ALICE@example.org', name: 'Alice' });

      const stored = await store.findByUsername('alice');
      expect(stored).toMatchObject({
        email: 'ALICE@example.org',
        name: 'Alice',
        activationStatus: ActivationStatus.NONE,
        expiresAt: before.expiresAt! + 3600,
      });
      expect(stored).not.toHaveProperty('activationTokenHash');
      expect(stored?.mailRequestId).not.toBe(before.mailRequestId);
      expect(store.emailClaim('alice@example.org')).toEqual({
        username: 'alice',
        expiresAt: before.expiresAt! + 3600,
      });
    });

    it('takes over the new address from another pending account', async () => {
      await service.register(alice);
      await service.register(bob);

      await service.register({ ...alice, email: bob.email });

      expect(await store.findByUsername('bob')).toBeUndefined();
      expect(await store.findByUsername('alice')).toMatchObject({ email: bob.email });
      expect(store.emailClaim('bob@example.org')).toMatchObject({ username: 'alice' });
      expect(store.emailClaim('alice@example.org')).toBeUndefined();
    });

    it('to the address of an active account changes nothing of the pending account, and tells the owner', async () => {
      await service.register(bob);
      await activateDirectly(store, 'bob', clock.now());
      await service.register(alice);
      const pending = await store.findByUsername('alice');

      const answer = await service.register({ ...alice, email: bob.email });

      expect(answer).toEqual(answerFor({ ...alice, email: bob.email }));
      expect(await store.findByUsername('alice')).toEqual(pending);
      expect(store.emailClaim('alice@example.org')).toMatchObject({ username: 'alice' });
      expect(store.emailClaim('bob@example.org')).toEqual({ username: 'bob' });
      expect(await store.findByUsername('bob')).toMatchObject({
        activationStatus: ActivationStatus.DONE,
        mailRequestKind: MailRequestKind.SIGN_UP_ATTEMPT,
      });
    });
  });

  describe('an expired pending account', () => {
    it('leaves its username free: registered as new, whatever the password', async () => {
      await service.register(alice);
      clock.advanceSeconds(PENDING_TTL_SECONDS);
      const now = clock.now().toISOString();

      const answer = await service.register({ ...bob, username: 'alice' });

      expect(answer).toEqual(answerFor({ ...bob, username: 'alice' }));
      expect(await store.findByUsername('alice')).toEqual({
        username: 'alice',
        email: bob.email,
        name: bob.name,
        passwordHash: await hasher.hash(bob.password),
        activationStatus: ActivationStatus.NONE,
        activationUrlBase: ACTIVATION_URL_BASE,
        createdAt: now,
        expiresAt: epochSeconds(now) + PENDING_TTL_SECONDS,
        mailRequestId: expect.stringMatching(MAIL_REQUEST_ID_PATTERN),
        mailRequestKind: MailRequestKind.ACTIVATION,
      });
      expect(store.emailClaim('bob@example.org')).toMatchObject({ username: 'alice' });
    });

    it('leaves its address free: the new account claims it', async () => {
      await service.register(alice);
      clock.advanceSeconds(PENDING_TTL_SECONDS);

      await service.register({ ...bob, email: alice.email });

      expect(await store.findByUsername('bob')).toMatchObject({
        email: alice.email,
        activationStatus: ActivationStatus.NONE,
      });
      expect(store.emailClaim('alice@example.org')).toEqual({
        username: 'bob',
        expiresAt: epochSeconds(clock.now().toISOString()) + PENDING_TTL_SECONDS,
      });
    });
  });

  describe('an address claimed under one of its old keys (legacyEmailKeys)', () => {
    it('is answered as a success, storing nothing', async () => {
      store.putLegacyEmailClaim('x@b\u00fccher.example', 'an-older-user');

      const answer = await service.register({ ...bob, email: 'x@xn--bcher-kva.example' });

      expect(answer).toEqual(answerFor({ ...bob, email: 'x@xn--bcher-kva.example' }));
      expect(store.all()).toEqual([]);
      expect(store.emailClaim('x@xn--bcher-kva.example')).toBeUndefined();
      expect(store.emailClaim('x@b\u00fccher.example')).toEqual({ username: 'an-older-user' });
    });

    it('never throws EmailTakenError: after the last round it answers as a success', async () => {
      const create = jest.spyOn(store, 'create').mockRejectedValue(new EmailTakenError());

      await expect(service.register(bob)).resolves.toEqual(answerFor(bob));
      expect(create).toHaveBeenCalledTimes(3);
      expect(store.all()).toEqual([]);
    });
  });

  describe('a write that finds the state changed since its reads', () => {
    /** Runs `meanwhile` right after the next read of an address claim. */
    function afterNextClaimRead(meanwhile: () => Promise<unknown>) {
      const read = store.findEmailClaim.bind(store);
      return jest.spyOn(store, 'findEmailClaim').mockImplementationOnce(async (email) => {
        const claim = await read(email);
        await meanwhile();
        return claim;
      });
    }

    it('takes over the address from a pending account that registered it in between', async () => {
      afterNextClaimRead(() => service.register({ ...alice, email: bob.email }));

      await expect(service.register(bob)).resolves.toEqual(answerFor(bob));

      expect(await store.findByUsername('alice')).toBeUndefined();
      expect(await store.findByUsername('bob')).toMatchObject({ email: bob.email });
      expect(store.emailClaim('bob@example.org')).toMatchObject({ username: 'bob' });
    });

    it('stores nothing and tells the owner when the pending account was activated in between', async () => {
      await service.register(alice);
      afterNextClaimRead(() => activateDirectly(store, 'alice', clock.now()));

      const answer = await service.register({ ...bob, email: alice.email });

      expect(answer).toEqual(answerFor({ ...bob, email: alice.email }));
      expect(await store.findByUsername('bob')).toBeUndefined();
      expect(await store.findByUsername('alice')).toMatchObject({
        activationStatus: ActivationStatus.DONE,
        mailRequestKind: MailRequestKind.SIGN_UP_ATTEMPT,
        signUpNoticeRequestedAt: NOW,
      });
      expect(store.emailClaim('alice@example.org')).toEqual({ username: 'alice' });
    });

    it('refuses the username registered in between with another password', async () => {
      afterNextClaimRead(() =>
        service.register({ ...bob, username: 'alice', password: OTHER_PASSWORD }),
      );

      await expect(service.register(alice)).rejects.toBeInstanceOf(UsernameTakenError);

      expect(await store.findByUsername('alice')).toMatchObject({ email: bob.email });
      expect(store.emailClaim('alice@example.org')).toBeUndefined();
    });

    it('becomes the typo fix of the username registered in between with the same password', async () => {
      afterNextClaimRead(() => service.register({ ...alice, email: bob.email }));

      await expect(service.register(alice)).resolves.toEqual(answerFor(alice));

      expect(await store.findByUsername('alice')).toMatchObject({ email: alice.email });
      expect(store.emailClaim('alice@example.org')).toMatchObject({ username: 'alice' });
      expect(store.emailClaim('bob@example.org')).toBeUndefined();
    });

    it('reads again when the notice’s owner no longer held the address', async () => {
      await activeAlice();
      const notice = jest.spyOn(store, 'requestSignUpNotice').mockResolvedValueOnce('CHANGED');

      await expect(service.register({ ...bob, email: alice.email })).resolves.toEqual(
        answerFor({ ...bob, email: alice.email }),
      );

      expect(notice).toHaveBeenCalledTimes(2);
      expect(await store.findByUsername('alice')).toMatchObject({
        mailRequestKind: MailRequestKind.SIGN_UP_ATTEMPT,
      });
    });
  });
});
