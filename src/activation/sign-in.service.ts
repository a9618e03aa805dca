import { ActivationStatus } from './activation-status';
import { AccountNotActivatedError, InvalidCredentialsError } from './activation.errors';
import { PasswordCheck } from './password-check';
import type { PasswordHasher } from './password-hasher';
import type { Clock } from './clock.port';
import {
  isExpiredPending,
  isLegacyAccount,
  type PublicUser,
  toPublicUser,
  type UserRecord,
} from './user';
import { normaliseUsername } from './user-rules';
import type { UserStore } from './user-store.port';

/** A checked sign-in: the account, and the hash its session is bound to. */
export interface SignedIn {
  readonly user: PublicUser;
  readonly passwordHash: string;
}

/**
 * Use case: check a username and password. Sign-in is refused until the account is DONE,
 * as the original app did; whether an account is activated is only revealed to someone
 * who knows its password.
 */
export class SignInService {
  private readonly passwords: PasswordCheck;

  constructor(
    private readonly store: UserStore,
    hasher: PasswordHasher,
    private readonly clock: Clock,
  ) {
    this.passwords = new PasswordCheck(store, hasher);
  }

  /**
   * @throws InvalidCredentialsError for an unknown user or a wrong password
   * @throws AccountNotActivatedError for the right password of an account not yet DONE
   */
  async signIn(username: string, password: string): Promise<SignedIn> {
    const user = await this.find(username);
    // An unknown user costs as much time as a known one (PasswordCheck), so timing does not
    // reveal who exists; a legacy account's plaintext is replaced by its hash here.
    const passwordHash = await this.passwords.check(user, password);
    // An abandoned sign-up past its expiry is no account, as if DynamoDB had deleted it.
    if (!user || passwordHash === undefined || isExpiredPending(user, this.clock.now())) {
      throw new InvalidCredentialsError();
    }
    if (user.activationStatus !== ActivationStatus.DONE) throw new AccountNotActivatedError();
    return { user: toPublicUser(user), passwordHash };
  }

  /**
   * The account of a typed username. Every account this service made is under the
   * normalised form; a legacy account whose username the rules would change (`Kay`,
   * `bob smith`; docs/taking-over-the-spring-app.md) is under the form it was stored in,
   * and is found only typed exactly so. That one is looked up first, so that a new
   * account under the normalised form (`kay`) never locks the legacy one out. The second
   * read happens whenever the two forms differ, account or not.
   */
  private async find(typed: string): Promise<UserRecord | undefined> {
    const normalised = normaliseUsername(typed);
    if (typed !== normalised && typed !== '') {
      const legacy = await this.store.findByUsername(typed);
      if (legacy && isLegacyAccount(legacy)) return legacy;
    }
    return this.store.findByUsername(normalised);
  }
}
