import { inspect } from 'node:util';
import { ActivationStatus, LegacyPassword, PasswordCheck, type UserRecord } from '.';
import { FakePasswordHasher } from './testing/fake-password-hasher';
import { InMemoryUserStore } from './testing/in-memory-user-store';

/** Counts what the check costs: every hash and verification is one Argon2id run for real. */
class CountingHasher extends FakePasswordHasher {
  hashes = 0;
  verifications = 0;

  override async hash(password: string): Promise<string> {
    this.hashes += 1;
    return super.hash(password);
  }

  override async verify(password: string, hash: string): Promise<boolean> {
    this.verifications += 1;
    return super.verify(password, hash);
  }
}

const PLAINTEXT = 'hopper1906';

/** An item of the Spring app as the store reads it: a plaintext password, no createdAt. */
const legacyUser = (): UserRecord => ({
  username: 'grace',
  email: 'grace@example.org',
  name: 'Grace Hopper',
  legacyPassword: new LegacyPassword(PLAINTEXT),
  activationStatus: ActivationStatus.DONE,
  otherAttributes: { balance: 100 },
});

describe('PasswordCheck', () => {
  let store: InMemoryUserStore;
  let hasher: CountingHasher;
  let check: PasswordCheck;

  beforeEach(() => {
    store = new InMemoryUserStore();
    hasher = new CountingHasher();
    check = new PasswordCheck(store, hasher);
  });

  describe('a legacy account (plaintext password)', () => {
    beforeEach(() => store.putLegacyUser(legacyUser()));

    it('replaces the plaintext by its hash on the right password, and answers that hash', async () => {
      const hash = await check.check(await store.findByUsername('grace'), PLAINTEXT);

      const stored = await store.findByUsername('grace');
      expect(hash).toBeDefined();
      expect(stored?.passwordHash).toBe(hash);
      expect(stored?.legacyPassword).toBeUndefined();
      await expect(hasher.verify(PLAINTEXT, hash!)).resolves.toBe(true);
      // Nothing else of the account changed.
      expect(stored?.otherAttributes).toEqual({ balance: 100 });
    });

    it('answers undefined on a wrong password and keeps the plaintext', async () => {
      const hash = await check.check(await store.findByUsername('grace'), 'hopper1907');

      expect(hash).toBeUndefined();
      const stored = await store.findByUsername('grace');
      expect(stored?.passwordHash).toBeUndefined();
      expect(stored?.legacyPassword?.matches(PLAINTEXT)).toBe(true);
    });

    it.each([
      ['the right password', PLAINTEXT],
      ['a wrong one', 'wrong'],
      ['a much longer wrong one', 'x'.repeat(500)],
    ])(
      'costs one Argon2id computation for %s, as a hashed account does',
      async (_case, password) => {
        await check.check(await store.findByUsername('grace'), password);

        expect(hasher.hashes + hasher.verifications).toBe(1);
      },
    );

    it('lets two first sign-ins at once both succeed, with one replacement', async () => {
      const read = await store.findByUsername('grace');
      const upgrade = jest.spyOn(store, 'upgradeLegacyPassword');

      const hashes = await Promise.all([
        check.check(read, PLAINTEXT),
        check.check(read, PLAINTEXT),
      ]);

      expect(hashes.every((hash) => hash !== undefined)).toBe(true);
      const outcomes = await Promise.all(upgrade.mock.results.map((result) => result.value));
      expect(outcomes.sort()).toEqual(['CHANGED', 'UPGRADED']);
      expect((await store.findByUsername('grace'))?.passwordHash).toBe(hashes[0]);
      expect(hashes[1]).toBe(hashes[0]);
    });

    it('refuses the plaintext once a password change replaced it meanwhile', async () => {
      const read = await store.findByUsername('grace');
      await check.check(read, PLAINTEXT);
      // Someone signed in and changed the password (a hash of another password).
      store.putLegacyUser({
        ...legacyUser(),
        legacyPassword: undefined,
        passwordHash: await hasher.hash('a new password'),
      });

      await expect(check.check(read, PLAINTEXT)).resolves.toBeUndefined();
    });
  });

  it('checks a hashed account against its hash, with one Argon2id computation', async () => {
    const passwordHash = await hasher.hash('correct horse');
    const user: UserRecord = { ...legacyUser(), legacyPassword: undefined, passwordHash };
    hasher.hashes = 0;

    await expect(check.check(user, 'correct horse')).resolves.toBe(passwordHash);
    await expect(check.check(user, 'wrong horse')).resolves.toBeUndefined();
    expect([hasher.hashes, hasher.verifications]).toEqual([0, 2]);
  });

  it('checks an unknown account against a decoy: one computation, never a match', async () => {
    await expect(check.check(undefined, 'decoy password that no account has')).resolves.toBe(
      undefined,
    );
    expect(hasher.verifications).toBe(1);
  });
});

describe('LegacyPassword', () => {
  const secret = new LegacyPassword('s3cret plaintext');

  it('never shows its value: not in strings, JSON or util.inspect (so not in logs)', () => {
    const shown = [
      String(secret),
      `${secret}`,
      JSON.stringify({ secret }),
      inspect({ user: { secret } }),
    ];

    for (const text of shown) expect(text).not.toContain('s3cret');
    expect(shown[0]).toBe('[legacy plaintext password]');
  });

  it.each([
    ['the same text', 's3cret plaintext', true],
    ['another text of the same length', 's3cret plaintexT', false],
    ['a prefix', 's3cret', false],
    ['a longer text', 's3cret plaintext!', false],
    ['nothing', '', false],
  ])('matches %s: %s', (_case, candidate, expected) => {
    expect(secret.matches(candidate)).toBe(expected);
  });
});
