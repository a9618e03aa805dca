import { ActivationStatus } from './activation-status';
import { InvalidActivationLinkError, InvalidCredentialsError } from './activation.errors';
import {
  activationTokenMatches,
  hashActivationToken,
  isWellFormedActivationToken,
} from './activation-token';
import type { Clock } from './clock.port';
import { PasswordCheck } from './password-check';
import type { PasswordHasher } from './password-hasher';
import { isExpiredPending, type PublicUser, toPublicUser } from './user';
import { usernameProblems } from './user-rules';
import type { UserStore } from './user-store.port';

export interface Activation {
  readonly outcome: 'ACTIVATED' | 'ALREADY_ACTIVE';
  /** The account, for the session the caller starts: both proofs were given. */
  readonly user: PublicUser;
  /** The password hash the password was checked against, which the session is bound to. */
  readonly passwordHash: string;
}

/**
 * Use case: "Activate my account" on the link's page. An account becomes active only
 * when one party proves both the mailbox (the link's token) and the password: a mail
 * scanner, a stranger who registered someone else's address, or someone with only the
 * mailbox activates nothing. The token is checked against the stored hash in constant
 * time and must not have expired; the status write is conditional on the same hash, so a
 * token replaced by a newer mail in the meantime does not activate.
 *
 * Unknown user, wrong token and expired token all throw the same error. A wrong password
 * is told only to someone holding the account's live token, and "already active" too.
 */
export class AccountActivationService {
  private readonly passwords: PasswordCheck;

  constructor(
    private readonly store: UserStore,
    private readonly clock: Clock,
    hasher: PasswordHasher,
  ) {
    this.passwords = new PasswordCheck(store, hasher);
  }

  /**
   * @throws InvalidActivationLinkError for an unknown user, a wrong or expired token
   * @throws InvalidCredentialsError for the live token with a wrong password
   */
  async activate(username: string, token: string, password: string): Promise<Activation> {
    if (usernameProblems(username).length > 0 || !isWellFormedActivationToken(token)) {
      throw new InvalidActivationLinkError();
    }
    const user = await this.store.findByUsername(username);
    const clock = this.clock.now();
    if (
      !user ||
      isExpiredPending(user, clock) ||
      !activationTokenMatches(token, user.activationTokenHash)
    ) {
      throw new InvalidActivationLinkError();
    }
    const now = clock.toISOString();
    const done = user.activationStatus === ActivationStatus.DONE;
    if (!done && (!user.activationTokenExpiresAt || user.activationTokenExpiresAt <= now)) {
      throw new InvalidActivationLinkError();
    }
    const passwordHash = await this.passwords.check(user, password);
    if (passwordHash === undefined) throw new InvalidCredentialsError();
    const activated = { ...toPublicUser(user), activationStatus: ActivationStatus.DONE };
    if (done) return { outcome: 'ALREADY_ACTIVE', user: activated, passwordHash };
    if (await this.store.activate(user, hashActivationToken(token), now)) {
      return { outcome: 'ACTIVATED', user: activated, passwordHash };
    }

    // Lost a race: a second click (or tab) activated first, or a newer mail replaced the token.
    const current = await this.store.findByUsername(username);
    if (
      current?.activationStatus === ActivationStatus.DONE &&
      activationTokenMatches(token, current.activationTokenHash)
    ) {
      return { outcome: 'ALREADY_ACTIVE', user: activated, passwordHash };
    }
    throw new InvalidActivationLinkError();
  }
}
