import { ActivationStatus } from './activation-status';
import type { Clock } from './clock.port';
import { MailRequestKind, newMailRequest } from './mail-request';
import { isExpiredPending } from './user';
import {
  emailKey,
  emailProblems,
  normaliseEmail,
  normaliseUsername,
  storedEmailKey,
  usernameProblems,
} from './user-rules';
import type { UserStore } from './user-store.port';

/** Whose new activation mail is asked for: by the account's address or its username. */
export type ActivationMailRequestInput =
  | { readonly email: string; readonly username?: undefined }
  | { readonly username: string; readonly email?: undefined };

/** What was asked for; the caller answers alike whatever it is. */
export type ActivationMailRequestOutcome =
  /** A pending account: a new activation mail, every older link dead. */
  | 'ACTIVATION'
  /** An active account: an "already active" notice. */
  | 'ALREADY_ACTIVE'
  /** No account (or an expired one), or it changed while asked: no mail. */
  | 'NOTHING';

/**
 * Use case: "send me a new activation mail" (a lost, filtered or expired mail). Writes a
 * mail request on the account; the pipeline mails it. The caller must answer alike
 * whatever the outcome, so that the endpoint tells nobody whether an account exists.
 */
export class ActivationMailRequestService {
  constructor(
    private readonly store: UserStore,
    private readonly clock: Clock,
  ) {}

  async request(input: ActivationMailRequestInput): Promise<ActivationMailRequestOutcome> {
    const now = this.clock.now();
    const username = await this.usernameOf(input, now);
    if (username === undefined) return 'NOTHING';
    const user = await this.store.findByUsername(username);
    if (!user || isExpiredPending(user, now)) return 'NOTHING';
    // A stale claim (its account has another address now) is no account of this address;
    // nor is an account whose stored address cannot be delivered (from before the rules).
    if (input.email !== undefined && storedEmailKey(user.email) !== emailKey(input.email)) {
      return 'NOTHING';
    }
    const kind =
      user.activationStatus === ActivationStatus.DONE
        ? MailRequestKind.ALREADY_ACTIVE
        : MailRequestKind.ACTIVATION;
    const requested = await this.store.requestMail(
      username,
      newMailRequest(kind),
      now.toISOString(),
    );
    return requested ? kind : 'NOTHING';
  }

  /** The account's username: as typed (normalised), or the holder of the address's live claim. */
  private async usernameOf(
    input: ActivationMailRequestInput,
    now: Date,
  ): Promise<string | undefined> {
    if (input.username !== undefined) {
      const username = normaliseUsername(input.username);
      return usernameProblems(username).length === 0 ? username : undefined;
    }
    const email = normaliseEmail(input.email);
    if (emailProblems(email).length > 0) return undefined;
    const claim = await this.store.findEmailClaim(email);
    if (!claim || (claim.expiresAt !== undefined && claim.expiresAt * 1000 <= now.getTime())) {
      return undefined;
    }
    return claim.username;
  }
}
