/**
 * Server-side sessions. The cookie carries the account's username and a random secret
 * (256 bits); the store keeps the secret's SHA-256 hash under the account, with the
 * expiry. Shared by every instance of the app (it lives in DynamoDB, not in memory): a
 * sign-out, a sign-out everywhere or a password change ends sessions for all of them.
 */
export interface Session {
  readonly username: string;
  readonly expiresAt: Date;
  /** The cookie value, to end this session (sign-out) or keep it apart. */
  readonly token: string;
}

export type NewSession = Session;

/** The account a session is started for, as the caller verified it. */
export interface VerifiedAccount {
  readonly username: string;
  /** The password hash the caller checked the password against. */
  readonly passwordHash: string;
}

export abstract class SessionStore {
  /**
   * Starts a session, only while `account.passwordHash` is still the active account's
   * password: a sign-in checked against a password that changes meanwhile starts nothing.
   * @returns undefined when the password (or the account) changed since it was read
   */
  abstract start(account: VerifiedAccount): Promise<NewSession | undefined>;
  /**
   * The live session for a cookie value, or `undefined` when unknown, expired or ended
   * (by sign-out, sign-out everywhere, or a password change). One read.
   */
  abstract find(token: string): Promise<Session | undefined>;
  abstract end(token: string): Promise<void>;
  /** Ends every session of the account, on every instance at once. */
  abstract endAll(username: string): Promise<void>;
}
