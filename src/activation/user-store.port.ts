import type { MailRequest } from './mail-request';
import type { LegacyPassword } from './legacy-password';
import type { NewUserRecord, UserRecord } from './user';

/** The UserEmail item of an address: whose it is, and until when if the account is pending. */
export interface EmailClaim {
  readonly username: string;
  /** Epoch seconds; absent once the account is active (and on claims from before expiry). */
  readonly expiresAt?: number;
}

/** A pending account that a registration replaces: its user item and e-mail claim go. */
export interface Replaced {
  readonly username: string;
}

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
  /**
   * The mail request this send answers: the claim is taken only while it is the user's
   * open request. Absent for executions started before requests had ids: then only while
   * the user has no open request.
   */
  readonly requestId?: string;
}

/** The right to send the notice that an active account's open request asks for. */
export interface AccountNoticeClaim {
  readonly claimId: string;
  readonly requestId: string;
  /** ISO-8601. */
  readonly leaseExpiresAt: string;
  /** ISO-8601. */
  readonly now: string;
}

/** The right to send the reset mail of an open PASSWORD_RESET request, with its token. */
export interface PasswordResetMailClaim {
  readonly claimId: string;
  readonly requestId: string;
  readonly tokenHash: string;
  /** ISO-8601. */
  readonly tokenExpiresAt: string;
  /** ISO-8601. */
  readonly leaseExpiresAt: string;
  /** ISO-8601. */
  readonly now: string;
}

/** A new password for an account, and what proves the right to set it. */
export interface PasswordChange {
  /** The account as the caller read it (its `expiresAt` says whether a claim must lose its expiry). */
  readonly user: Pick<UserRecord, 'username' | 'email' | 'expiresAt'>;
  /** PHC string of the new password. */
  readonly newPasswordHash: string;
  readonly proof:
    /** A reset link: its token's hash must be the live one. */
    | { readonly resetTokenHash: string }
    /** Signed in: the password hash the caller verified must still be the account's. */
    | { readonly passwordHash: string };
  /** The PASSWORD_CHANGED notice it asks for. */
  readonly request: MailRequest;
  /** ISO-8601. */
  readonly now: string;
}

export type ClaimOutcome =
  | { readonly claimed: true }
  /** Another attempt holds a live claim. */
  | { readonly claimed: false; readonly reason: 'HELD' }
  /** The status is no longer NONE (an activation mail), or not DONE (a notice). */
  | { readonly claimed: false; readonly reason: 'NOT_NONE' }
  /** The request is no longer the user's open one: a newer one replaced it, or it was sent. */
  | { readonly claimed: false; readonly reason: 'NOT_OPEN' }
  | { readonly claimed: false; readonly reason: 'NOT_FOUND' };

/**
 * Where users live. Implementations must make `create` atomic: the username and the
 * email key (see `emailKey`) are claimed together or not at all, and of two racing
 * registrations of either only one may win. A claim stored under one of the address's
 * old keys (`legacyEmailKeys`, from before the key was the delivery address) takes the
 * address too. Every status change is a conditional write,
 * so concurrent attempts cannot both succeed.
 */
/** What a legacy account's first proven password makes of its plaintext. */
export type LegacyPasswordUpgrade = 'UPGRADED' | 'CHANGED';

export abstract class UserStore {
  /**
   * Stores a new user, over an expired pending account of the same username if there is
   * one. With `replacing`, that pending account is deleted and its e-mail claim taken over
   * in the same write, only while it is still pending and still holds the address.
   * @throws UsernameTakenError when the username is held (by a live account)
   * @throws EmailTakenError when the email key is held by another (live) account than
   *   `replacing`, the replaced account is no longer pending, or a claim exists under one
   *   of the address's old keys
   */
  abstract create(user: NewUserRecord, replacing?: Replaced): Promise<void>;

  /**
   * The typo fix: a pending account's e-mail, name, expiry and open request replaced in one
   * write, only while it is still as `previous` was read (same password hash, address and
   * status). Its old links die; an address change moves the e-mail claim (and, with
   * `replacing`, takes it over from that pending account as `create` does).
   * @throws UsernameTakenError when the account changed since it was read
   * @throws EmailTakenError as for `create`
   */
  abstract updatePending(
    previous: UserRecord,
    next: NewUserRecord,
    replacing?: Replaced,
  ): Promise<void>;

  /**
   * Replaces a legacy account's plaintext `password` by `passwordHash`, in one write, only
   * while the item still holds that very plaintext and no hash: `UPGRADED`; else nothing
   * is written (another sign-in upgraded it first): `CHANGED`. Nothing else of the item
   * changes, but that an item without `activationStatus` (the oldest, which reading takes
   * as active) gets `DONE`.
   */
  abstract upgradeLegacyPassword(
    username: string,
    legacy: LegacyPassword,
    passwordHash: string,
  ): Promise<LegacyPasswordUpgrade>;

  abstract findByUsername(username: string): Promise<UserRecord | undefined>;

  /** The claim on `emailKey(email)`, expired or not. */
  abstract findEmailClaim(email: string): Promise<EmailClaim | undefined>;

  /**
   * Opens a mail request on an account, replacing any open one. ACTIVATION: only for a
   * pending, unexpired account, which goes back to NONE and loses its token (every older
   * link dies) and any send claim. PASSWORD_RESET: for any live account (pending or
   * active); its reset token goes (every older reset link dies) and any send claim. A
   * notice kind: only for an active account. No kind but ACTIVATION replaces an unsent
   * PASSWORD_CHANGED notice younger than PASSWORD_CHANGED_NOTICE_HOLD_SECONDS.
   * @returns false when the account is absent or not in that state, or a notice holds
   */
  abstract requestMail(username: string, request: MailRequest, now: string): Promise<boolean>;

  /**
   * Opens a SIGN_UP_ATTEMPT request on the active account that holds `email`'s claim,
   * unless one was opened after `quietSince` (then nothing is written).
   * @returns REQUESTED; QUIET (a notice is recent, or an unsent password-changed notice
   *   holds, as for `requestMail`); CHANGED when `owner` no longer holds
   *   the address as an active account
   */
  abstract requestSignUpNotice(
    owner: string,
    email: string,
    request: MailRequest,
    now: string,
    quietSince: string,
  ): Promise<'REQUESTED' | 'QUIET' | 'CHANGED'>;

  /**
   * Takes the right to mail a NONE user and stores the new token's hash, if nobody
   * holds a live claim. Replaces any earlier token. Idempotent: the same claim (same id)
   * again succeeds, so a retried write whose first answer was lost does not lock itself out.
   */
  abstract claimActivationMail(username: string, claim: ActivationMailClaim): Promise<ClaimOutcome>;

  /**
   * Takes the right to send the notice of the open request `claim.requestId` of an active
   * account. Idempotent for the same claim id, like `claimActivationMail`.
   */
  abstract claimAccountNotice(username: string, claim: AccountNoticeClaim): Promise<ClaimOutcome>;

  /**
   * Takes the right to send the reset mail of the open PASSWORD_RESET request
   * `claim.requestId` of a live account (pending or active), and stores the new reset
   * token's hash. Idempotent for the same claim id, like `claimActivationMail`.
   */
  abstract claimPasswordResetMail(
    username: string,
    claim: PasswordResetMailClaim,
  ): Promise<ClaimOutcome>;

  /**
   * Sets a new password hash, only while the proof holds: the live, unexpired reset token
   * (of a live account), or the verified hash of an active account. In the same write:
   * every reset and activation token and any send claim go, the PASSWORD_CHANGED request
   * opens (replacing any open one), a pending account becomes DONE (a reset proves its
   * mailbox) and loses its expiry with its e-mail claim's, and every session of the
   * account ends (a session being started meanwhile too, however the clocks differ).
   * @returns false when the proof does not hold (any more): of two racing changes with
   *   one proof, one succeeds
   */
  abstract changePassword(change: PasswordChange): Promise<boolean>;

  /** Gives a claim back (the mail was certainly not sent). A no-op if it is not held. */
  abstract releaseActivationMailClaim(username: string, claimId: string): Promise<void>;

  /**
   * NONE → MAIL_SENT, only for the holder of the claim; clears the claim and closes the
   * open request.
   * @returns false when the claim is no longer held or the status is no longer NONE
   */
  abstract markMailSent(username: string, claimId: string, sentAt: string): Promise<boolean>;

  /**
   * Closes the open request whose mail went out (a notice, or a reset mail), only for the
   * holder of the claim.
   * @returns false when the claim is no longer held
   */
  abstract markNoticeSent(username: string, claimId: string): Promise<boolean>;

  /**
   * NONE or MAIL_SENT → DONE, only while `tokenHash` is the stored hash and has not
   * expired at `now`, and the account has not expired as pending. Closes the open request
   * and any send claim. Removes the expiry of
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
