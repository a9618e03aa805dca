import { ActivationStatus } from './activation-status';
import { AccountNotActivatedError, InvalidCredentialsError } from './activation.errors';
import { SignInService } from './sign-in.service';
import { activateDirectly } from './testing/activate-directly';
import { FakePasswordHasher } from './testing/fake-password-hasher';
import { FixedClock } from './testing/fixed-clock';
import { InMemoryUserStore } from './testing/in-memory-user-store';

const PASSWORD = 'through the looking glass';
const NOW = '2026-03-01T09:00:00.000Z';

describe('SignInService', () => {
  let store: InMemoryUserStore;
  let hasher: FakePasswordHasher;
  let service: SignInService;

  async function addUser(
    activationStatus: ActivationStatus,
    username = 'alice',
    expiresAt?: number,
  ): Promise<void> {
    await store.create({
      username,
      email: `${username}@example.org`,
      name: 'Alice Liddell',
      passwordHash: await hasher.hash(PASSWORD),
      activationStatus,
      activationUrlBase: 'https://cards.example/activate',
      createdAt: '2026-03-01T08:30:00.000Z',
      ...(expiresAt === undefined ? {} : { expiresAt }),
    });
  }

  beforeEach(() => {
    store = new InMemoryUserStore();
    hasher = new FakePasswordHasher();
    service = new SignInService(store, hasher, new FixedClock(NOW));
  });

  it('signs in an activated user: the public user (no hash in it), and the hash it was checked against', async () => {
    await addUser(ActivationStatus.DONE);
    const stored = (await store.findByUsername('alice'))!;

    const { user, passwordHash } = await service.signIn('alice', PASSWORD);

    expect(user).toEqual({
      username: 'alice',
      email: 'alice@example.org',
      name: 'Alice Liddell',
      activationStatus: ActivationStatus.DONE,
    });
    expect(user).not.toHaveProperty('passwordHash');
    expect(passwordHash).toBe(stored.passwordHash);
  });

  it.each(['ALICE', '  Alice ', 'aLiCe'])('treats the username %j as alice', async (username) => {
    await addUser(ActivationStatus.DONE);

    await expect(service.signIn(username, PASSWORD)).resolves.toMatchObject({
      user: { username: 'alice' },
    });
  });

  it('refuses an unknown user with InvalidCredentialsError', async () => {
    await expect(service.signIn('nobody', PASSWORD)).rejects.toBeInstanceOf(
      InvalidCredentialsError,
    );
  });

  it('still verifies a password for an unknown user, so timing does not tell who exists', async () => {
    const verify = jest.spyOn(hasher, 'verify');

    await expect(service.signIn('nobody', PASSWORD)).rejects.toBeInstanceOf(
      InvalidCredentialsError,
    );

    expect(verify).toHaveBeenCalledTimes(1);
    expect(verify).toHaveBeenCalledWith(PASSWORD, expect.stringMatching(/^\$fake\$/));
  });

  it('makes the decoy hash for unknown users only once', async () => {
    const hash = jest.spyOn(hasher, 'hash');

    await expect(service.signIn('nobody', PASSWORD)).rejects.toThrow(InvalidCredentialsError);
    await expect(service.signIn('nobody-else', PASSWORD)).rejects.toThrow(InvalidCredentialsError);

    expect(hash).toHaveBeenCalledTimes(1);
  });

  it('lets no password sign in an unknown user, not even the decoy one', async () => {
    await expect(
      service.signIn('nobody', 'decoy password that no account has'),
    ).rejects.toBeInstanceOf(InvalidCredentialsError);
  });

  it('refuses a wrong password with InvalidCredentialsError', async () => {
    await addUser(ActivationStatus.DONE);

    await expect(service.signIn('alice', 'wrong password')).rejects.toBeInstanceOf(
      InvalidCredentialsError,
    );
  });

  it('refuses the password in another letter case', async () => {
    await addUser(ActivationStatus.DONE);

    await expect(service.signIn('alice', PASSWORD.toUpperCase())).rejects.toBeInstanceOf(
      InvalidCredentialsError,
    );
  });

  it('gives an unknown user and a wrong password the very same error', async () => {
    await addUser(ActivationStatus.DONE);

    const unknown = await service.signIn('nobody', PASSWORD).catch((error: unknown) => error);
    const wrong = await service.signIn('alice', 'wrong password').catch((error: unknown) => error);

    expect(unknown).toBeInstanceOf(InvalidCredentialsError);
    expect(wrong).toEqual(unknown);
    expect((wrong as Error).message).toBe((unknown as Error).message);
  });

  it.each([ActivationStatus.NONE, ActivationStatus.MAIL_SENT])(
    'refuses the right password of an account in status %s with AccountNotActivatedError',
    async (status) => {
      await addUser(status);

      await expect(service.signIn('alice', PASSWORD)).rejects.toBeInstanceOf(
        AccountNotActivatedError,
      );
    },
  );

  it.each([ActivationStatus.NONE, ActivationStatus.MAIL_SENT])(
    'does not reveal that an account in status %s is not activated to a wrong password',
    async (status) => {
      await addUser(status);

      await expect(service.signIn('alice', 'wrong password')).rejects.toBeInstanceOf(
        InvalidCredentialsError,
      );
    },
  );

  it('signs in once the account has been activated', async () => {
    await addUser(ActivationStatus.NONE);
    await expect(service.signIn('alice', PASSWORD)).rejects.toBeInstanceOf(
      AccountNotActivatedError,
    );

    await activateDirectly(store, 'alice');

    await expect(service.signIn('alice', PASSWORD)).resolves.toMatchObject({
      user: { activationStatus: ActivationStatus.DONE },
    });
  });

  it('sees no account in a pending sign-up that expired, even with its password', async () => {
    const now = Date.parse(NOW) / 1000;
    await addUser(ActivationStatus.MAIL_SENT, 'gone', now);
    await addUser(ActivationStatus.MAIL_SENT, 'pending', now + 1);

    await expect(service.signIn('gone', PASSWORD)).rejects.toBeInstanceOf(InvalidCredentialsError);
    await expect(service.signIn('pending', PASSWORD)).rejects.toBeInstanceOf(
      AccountNotActivatedError,
    );
  });
});
