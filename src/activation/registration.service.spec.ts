import { ActivationStatus } from './activation-status';
import { EmailTakenError, InvalidUserInputError, UsernameTakenError } from './activation.errors';
import { Argon2idPasswordHasher } from './password-hasher';
import { RegistrationService } from './registration.service';
import { FakePasswordHasher } from './testing/fake-password-hasher';
import { FixedClock } from './testing/fixed-clock';
import { InMemoryUserStore } from './testing/in-memory-user-store';

const ACTIVATION_URL_BASE = 'https://cards.example/activate';
const NOW = '2026-03-01T08:30:00.000Z';
const PENDING_TTL_SECONDS = 7 * 24 * 3600;

const alice = {
  username: 'alice',
  email: 'alice@example.org',
  name: 'Alice Liddell',
  password: 'through the looking glass',
};

describe('RegistrationService', () => {
  let store: InMemoryUserStore;
  let hasher: FakePasswordHasher;
  let service: RegistrationService;

  beforeEach(() => {
    store = new InMemoryUserStore();
    hasher = new FakePasswordHasher();
    service = new RegistrationService(store, hasher, new FixedClock(NOW), {
      activationUrlBase: ACTIVATION_URL_BASE,
      pendingAccountTtlSeconds: PENDING_TTL_SECONDS,
    });
  });

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
    });
  });

  it('stores a hash of the password made by the hasher, not the password', async () => {
    await service.register(alice);

    const stored = await store.findByUsername('alice');
    expect(stored?.passwordHash).not.toBe(alice.password);
    expect(stored?.passwordHash).not.toContain(alice.password);
    await expect(hasher.verify(alice.password, stored!.passwordHash)).resolves.toBe(true);
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
    await expect(cheapArgon2.verify(alice.password, stored!.passwordHash)).resolves.toBe(true);
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
    const clock = new FixedClock(NOW);
    const timed = new RegistrationService(store, hasher, clock, {
      activationUrlBase: ACTIVATION_URL_BASE,
      pendingAccountTtlSeconds: PENDING_TTL_SECONDS,
    });
    clock.set('2027-12-31T23:59:59.000Z');

    await timed.register(alice);

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

  it('refuses a taken username, whatever its case, with UsernameTakenError', async () => {
    await service.register(alice);

    const registering = service.register({
      ...alice,
      username: 'ALICE',
      email: 'other@example.org',
    });

    await expect(registering).rejects.toBeInstanceOf(UsernameTakenError);
    await expect(registering).rejects.toMatchObject({ code: 'USERNAME_TAKEN', username: 'alice' });
    expect(store.all()).toHaveLength(1);
  });

  it('refuses an email address taken in another letter case with EmailTakenError', async () => {
    await service.register(alice);

    const registering = service.register({
      ...alice,
      username: 'bob',
      email: ' ALICE@example.ORG ',
    });

    await expect(registering).rejects.toBeInstanceOf(EmailTakenError);
    await expect(registering).rejects.toMatchObject({ code: 'EMAIL_TAKEN' });
    expect(await store.findByUsername('bob')).toBeUndefined();
  });

  it('reports the username first when both username and email are taken', async () => {
    await service.register(alice);

    await expect(service.register(alice)).rejects.toBeInstanceOf(UsernameTakenError);
  });

  it('lets the email address of a refused registration be used by another', async () => {
    await service.register(alice);
    await expect(service.register({ ...alice, email: 'carol@example.org' })).rejects.toBeInstanceOf(
      UsernameTakenError,
    );

    const carol = await service.register({
      ...alice,
      username: 'carol',
      email: 'carol@example.org',
    });

    expect(carol.username).toBe('carol');
  });
});
