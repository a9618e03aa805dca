/**
 * Server-side sessions. The cookie carries only a random token (256 bits); the store keeps
 * its SHA-256 hash, the user and the expiry. Shared by every instance of the app (it
 * lives in DynamoDB, not in memory), and a sign-out deletes it for all of them.
 */
export interface Session {
  readonly username: string;
  readonly expiresAt: Date;
}

export interface NewSession extends Session {
  /** The secret for the cookie; only its hash is stored. */
  readonly token: string;
}

export abstract class SessionStore {
  abstract start(username: string): Promise<NewSession>;
  /** The live session for a token, or `undefined` when unknown, expired or revoked. */
  abstract find(token: string): Promise<Session | undefined>;
  abstract end(token: string): Promise<void>;
}
