import { ActivationStatus } from './activation-status';
import { InvalidActivationLinkError } from './activation.errors';
import {
  activationTokenMatches,
  hashActivationToken,
  isWellFormedActivationToken,
} from './activation-token';
import type { Clock } from './clock.port';
import { usernameProblems } from './user-rules';
import type { UserStore } from './user-store.port';

export type ActivationOutcome = 'ACTIVATED' | 'ALREADY_ACTIVE';

/**
 * Use case: the click on "Activate my account". The token is checked against the stored
 * hash in constant time and must not have expired; the status write is conditional on
 * the same hash, so a token replaced by a newer mail in the meantime does not activate.
 *
 * Unknown user, wrong token and expired token all throw the same error. "Already active"
 * is only said to someone holding that account's token.
 */
export class AccountActivationService {
  constructor(
    private readonly store: UserStore,
    private readonly clock: Clock,
  ) {}

  /** @throws InvalidActivationLinkError */
  async activate(username: string, token: string): Promise<ActivationOutcome> {
    if (usernameProblems(username).length > 0 || !isWellFormedActivationToken(token)) {
      throw new InvalidActivationLinkError();
    }
    const user = await this.store.findByUsername(username);
    if (!user || !activationTokenMatches(token, user.activationTokenHash)) {
      throw new InvalidActivationLinkError();
    }
    if (user.activationStatus === ActivationStatus.DONE) return 'ALREADY_ACTIVE';

    const now = this.clock.now().toISOString();
    if (!user.activationTokenExpiresAt || user.activationTokenExpiresAt <= now) {
      throw new InvalidActivationLinkError();
    }
    if (await this.store.activate(username, hashActivationToken(token), now)) return 'ACTIVATED';

    // Lost a race: a second click (or tab) activated first, or a newer mail replaced the token.
    const current = await this.store.findByUsername(username);
    if (
      current?.activationStatus === ActivationStatus.DONE &&
      activationTokenMatches(token, current.activationTokenHash)
    ) {
      return 'ALREADY_ACTIVE';
    }
    throw new InvalidActivationLinkError();
  }
}
