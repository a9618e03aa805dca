/**
 * The one check of a password against an account, for every use case that takes one
 * (sign-in, activation, a password change, the sign-up typo fix). An account's credential
 * is its Argon2id hash, or, on an item the Spring app left behind, its plaintext password
 * (`legacyPassword`): the first check that proves the plaintext replaces it by its hash, in
 * one conditional write, before anything else happens.
 *
 * Every branch costs one Argon2id computation, so timing tells an unknown user, a wrong
 * password and a legacy account apart no better than chance: an unknown user is checked
 * against a decoy hash, and a plaintext check hashes the candidate whatever it compares to.
 */
import type { PasswordHasher } from './password-hasher';
import type { UserRecord } from './user';
import type { UserStore } from './user-store.port';

export class PasswordCheck {
  private decoyHash: Promise<string> | undefined;

  constructor(
    private readonly store: UserStore,
    private readonly hasher: PasswordHasher,
  ) {}

  /**
   * The account's Argon2id hash when `password` is its password (for a legacy account:
   * the hash that has just replaced its plaintext), else undefined. `user` undefined is an
   * unknown account: the same cost, always undefined.
   */
  async check(user: UserRecord | undefined, password: string): Promise<string | undefined> {
    if (user?.passwordHash !== undefined) {
      return (await this.hasher.verify(password, user.passwordHash))
        ? user.passwordHash
        : undefined;
    }
    if (user?.legacyPassword !== undefined) {
      const hash = await this.hasher.hash(password);
      if (!user.legacyPassword.matches(password)) return undefined;
      return this.upgrade(user, password, hash);
    }
    await this.hasher.verify(password, await this.decoy());
    return undefined;
  }

  /**
   * Replaces the plaintext by `hash`. When another sign-in did it first (or the password
   * changed meanwhile), the check is made against what the account holds now.
   */
  private async upgrade(
    user: UserRecord,
    password: string,
    hash: string,
  ): Promise<string | undefined> {
    const outcome = await this.store.upgradeLegacyPassword(
      user.username,
      user.legacyPassword!,
      hash,
    );
    if (outcome === 'UPGRADED') return hash;
    const current = await this.store.findByUsername(user.username);
    if (current?.passwordHash === undefined) return undefined;
    return (await this.hasher.verify(password, current.passwordHash))
      ? current.passwordHash
      : undefined;
  }

  private decoy(): Promise<string> {
    this.decoyHash ??= this.hasher.hash('decoy password that no account has');
    return this.decoyHash;
  }
}
