import { ActivationStatus } from './activation-status';
import type { LegacyPassword } from './legacy-password';
import type { MailRequestKind } from './mail-request';

/** A user as stored in the `User` table. `passwordHash` never leaves the server. */
export interface UserRecord {
  /** Partition key; normalised (see `normaliseUsername`). */
  readonly username: string;
  /**
   * As the user typed it, trimmed, NFC. Mail goes to `deliveryAddress(email)`; uniqueness
   * is enforced on `emailKey(email)`. Items stored before those rules may hold an address
   * they refuse (a non-ASCII local part): nothing is mailed to it.
   */
  readonly email: string;
  readonly name: string;
  /** PHC string (`$argon2id$v=19$...`); absent only on a legacy item (`legacyPassword`). */
  readonly passwordHash?: string;
  /**
   * The Spring app's plaintext `password`, on its items that nobody has signed in to
   * since: replaced by `passwordHash` at the first check that proves it (PasswordCheck).
   */
  readonly legacyPassword?: LegacyPassword;
  /**
   * Attributes this service does not know (the Spring app's `balance`, its
   * `activationToken`, anything else), as read: every write keeps them.
   */
  readonly otherAttributes?: Readonly<Record<string, unknown>>;
  readonly activationStatus: ActivationStatus;
  /**
   * Base of the activation link, taken from configuration at registration, never from a
   * request. Absent on a legacy item: the Spring app's was built from a request's Host
   * header, so it is never read, and its links use the configured base.
   */
  readonly activationUrlBase?: string;
  /** ISO-8601 instant; absent on a legacy item (the Spring app kept none). */
  readonly createdAt?: string;
  /** SHA-256 (hex) of the live activation token; kept after activation. */
  readonly activationTokenHash?: string;
  /** ISO-8601 instant after which the token no longer activates. */
  readonly activationTokenExpiresAt?: string;
  /** The send attempt that holds the right to mail this user, until its lease ends. */
  readonly mailClaimId?: string;
  /** ISO-8601 instant; after it another attempt may take the claim over. */
  readonly mailClaimExpiresAt?: string;
  readonly activationMailSentAt?: string;
  /**
   * The open mail request (see mail-request.ts): set by the write that asks for a mail,
   * removed by the write that records it sent, and by activation. Its stream record starts
   * the execution named after it.
   */
  readonly mailRequestId?: string;
  readonly mailRequestKind?: MailRequestKind;
  /**
   * SHA-256 (hex) of the live password-reset token, stored when its mail is claimed and
   * removed by the reset it allows, by any password change, by activation and by a newer
   * reset request: one link lives at a time, and only until the password changes.
   */
  readonly passwordResetTokenHash?: string;
  /** ISO-8601 instant after which the reset token no longer works. */
  readonly passwordResetTokenExpiresAt?: string;
  /** ISO-8601: the last password change (a reset, or signed in). */
  readonly passwordChangedAt?: string;
  /** ISO-8601: when a sign-up attempt on this active account last asked for a notice. */
  readonly signUpNoticeRequestedAt?: string;
  readonly activatedAt?: string;
  /**
   * Epoch seconds: a pending account (NONE, MAIL_SENT) is gone from then on, and DynamoDB's
   * TTL deletes it (and its e-mail claim, which carries the same value) some time after.
   * Removed on activation. Absent on accounts stored before abandoned sign-ups expired:
   * those never expire.
   */
  readonly expiresAt?: number;
}

/** A user this service writes anew (a sign-up): never a legacy item, so every field is there. */
export type NewUserRecord = UserRecord &
  Required<Pick<UserRecord, 'passwordHash' | 'activationUrlBase' | 'createdAt'>>;

/**
 * An account the Spring app made (docs/taking-over-the-spring-app.md): every record this
 * service writes has a `createdAt`, the Spring app kept none.
 */
export const isLegacyAccount = (user: UserRecord): boolean => user.createdAt === undefined;

/**
 * A pending account past its `expiresAt` counts as absent at once, whatever DynamoDB has
 * not deleted yet: registration may take its username and address, and sign-in and
 * activation see no account.
 */
export function isExpiredPending(user: UserRecord, now: Date): boolean {
  return (
    user.activationStatus !== ActivationStatus.DONE &&
    user.expiresAt !== undefined &&
    user.expiresAt * 1000 <= now.getTime()
  );
}

/** What the API shows of a user. */
export interface PublicUser {
  readonly username: string;
  readonly email: string;
  readonly name: string;
  readonly activationStatus: ActivationStatus;
}

export function toPublicUser(user: UserRecord): PublicUser {
  return {
    username: user.username,
    email: user.email,
    name: user.name,
    activationStatus: user.activationStatus,
  };
}
