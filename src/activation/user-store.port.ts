import type { UserRecord } from './user';

/** The right to send one activation mail, with the token that mail will carry. */
export interface ActivationMailClaim {
  readonly claimId: string;
  readonly tokenHash: string;
  /** ISO-8601. */
  readonly tokenExpiresAt: string;
  /** ISO-8601; a crashed attempt's claim can be taken over after this. */
  readonly leaseExpiresAt: string;
  /** ISO-8601; a claim whose lease ended before this is free. */
  readonly now: string;
}

export type ClaimOutcome =
  | { readonly claimed: true }
  /** Another attempt holds a live claim. */
  | { readonly claimed: false; readonly reason: 'HELD' }
  /** The status is no longer NONE. */
  | { readonly claimed: false; readonly reason: 'NOT_NONE' }
  | { readonly claimed: false; readonly reason: 'NOT_FOUND' };

/**
 * Where users live. Implementations must make `create` atomic: the username and the
 * email key (see `emailKey`) are claimed together or not at all, and of two racing
 * registrations of either only one may win. A claim stored under one of the address's
 * old keys (`legacyEmailKeys`, from before the key was the delivery address) takes the
 * address too. Every status change is a conditional write,
 * so concurrent attempts cannot both succeed.
 */
export abstract class UserStore {
  /**
   * Stores a new user.
   * @throws UsernameTakenError when the username exists
   * @throws EmailTakenError when another user has the same email key, or a claim exists
   *   under one of its old keys
   */
  abstract create(user: UserRecord): Promise<void>;

  abstract findByUsername(username: string): Promise<UserRecord | undefined>;

  /**
   * Takes the right to mail a NONE user and stores the new token's hash, if nobody
   * holds a live claim. Replaces any earlier token. Idempotent: the same claim (same id)
   * again succeeds, so a retried write whose first answer was lost does not lock itself out.
   */
  abstract claimActivationMail(username: string, claim: ActivationMailClaim): Promise<ClaimOutcome>;

  /** Gives a claim back (the mail was certainly not sent). A no-op if it is not held. */
  abstract releaseActivationMailClaim(username: string, claimId: string): Promise<void>;

  /**
   * NONE → MAIL_SENT, only for the holder of the claim; clears the claim.
   * @returns false when the claim is no longer held or the status is no longer NONE
   */
  abstract markMailSent(username: string, claimId: string, sentAt: string): Promise<boolean>;

  /**
   * NONE or MAIL_SENT → DONE, only while `tokenHash` is the stored hash and has not
   * expired at `now`, and the account has not expired as pending. Removes the expiry of
   * the user and of its e-mail claim together: an active account stays. `user` is the
   * record as the caller read it (its `expiresAt` says whether there is a claim to keep).
   * @returns false when any of that does not hold (any more)
   */
  abstract activate(
    user: Pick<UserRecord, 'username' | 'email' | 'expiresAt'>,
    tokenHash: string,
    now: string,
  ): Promise<boolean>;
}
