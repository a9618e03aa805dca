/**
 * The published rate limits: what each one counts, by which key, and its default. The
 * "Rate limits" table in docs/api.md mirrors this file; each limit is configurable (see
 * app-config.ts), and RATE_LIMIT_SCALE multiplies every count for load tests.
 *
 * Every limit is a fixed window of `windowSeconds` counted per key in DynamoDB (so it holds
 * across every instance); the request after `limit` is refused with 429 and the key stays
 * locked for `lockSeconds`, whatever the request says — so a lock on sign-in tells a
 * guesser nothing about the password.
 */

/** Whose requests one counter counts. */
export type RateLimitKey =
  /** The client's address (IPv6 by its /64), from the socket or API Gateway's sourceIp. */
  | 'address'
  /**
   * The username in the body, normalised as sign-in normalises it; on a signed-in route,
   * the session's account.
   */
  | 'account'
  /** The username in the body and the client's address together. */
  | 'account-address'
  /**
   * The e-mail address or username the client typed (its `email`, else its `username`),
   * normalised: the same key whether or not an account has it, so a 429 reveals nothing.
   */
  | 'identifier';

export interface RateLimitPolicy {
  readonly key: RateLimitKey;
  /** Requests allowed per window and key. */
  readonly limit: number;
  readonly windowSeconds: number;
  /** How long the key is refused once over the limit; at least the window. */
  readonly lockSeconds: number;
}

export const RATE_LIMIT_NAMES = [
  'login-account-address',
  'login-account',
  'login-address',
  'register-address',
  'activate-address',
  'activate-account',
  'mail-cooldown',
  'mail-daily',
  'mail-address',
  'password-reset-address',
  'password-reset-account',
] as const;
export type RateLimitName = (typeof RATE_LIMIT_NAMES)[number];

/** The environment variable that sets each limit, as `<limit>/<window>` (e.g. `5/15m`). */
export const RATE_LIMIT_VARIABLES: Readonly<Record<RateLimitName, string>> = {
  'login-account-address': 'RATE_LIMIT_LOGIN_PER_ACCOUNT_AND_ADDRESS',
  'login-account': 'RATE_LIMIT_LOGIN_PER_ACCOUNT',
  'login-address': 'RATE_LIMIT_LOGIN_PER_ADDRESS',
  'register-address': 'RATE_LIMIT_REGISTER_PER_ADDRESS',
  'activate-address': 'RATE_LIMIT_ACTIVATE_PER_ADDRESS',
  'activate-account': 'RATE_LIMIT_ACTIVATE_PER_ACCOUNT',
  'mail-cooldown': 'RATE_LIMIT_MAIL_COOLDOWN',
  'mail-daily': 'RATE_LIMIT_MAIL_PER_DAY',
  'mail-address': 'RATE_LIMIT_MAIL_PER_ADDRESS',
  'password-reset-address': 'RATE_LIMIT_PASSWORD_RESET_PER_ADDRESS',
  'password-reset-account': 'RATE_LIMIT_PASSWORD_RESET_PER_ACCOUNT',
};

/** What each limit counts, and its default as `<limit>/<window>`. */
export const RATE_LIMIT_DEFAULTS: Readonly<
  Record<RateLimitName, { readonly key: RateLimitKey; readonly value: string }>
> = {
  // A guesser at one account from one address is locked out first, for 15 minutes...
  'login-account-address': { key: 'account-address', value: '5/15m' },
  // ...and the account itself only at a far higher count, so that a guesser spread over
  // many addresses cannot lock its owner out with a handful of tries.
  'login-account': { key: 'account', value: '100/1h' },
  // One address trying many accounts (credential stuffing); room for a shared NAT.
  'login-address': { key: 'address', value: '60/15m' },
  'register-address': { key: 'address', value: '20/1h' },
  'activate-address': { key: 'address', value: '30/15m' },
  // Token guessing at one account: a link is 256 random bits, this only keeps it boring.
  'activate-account': { key: 'account', value: '10/1h' },
  // The shared budget of every mail a client can ask for (resend, password reset).
  'mail-cooldown': { key: 'identifier', value: '1/1m' },
  'mail-daily': { key: 'identifier', value: '5/1d' },
  // One address asking mail for many identifiers (each within its own budget).
  'mail-address': { key: 'address', value: '20/1h' },
  // Setting a password with a reset link: like activation, a 256-bit token is not guessed;
  // these only keep a scripted client boring.
  'password-reset-address': { key: 'address', value: '30/15m' },
  'password-reset-account': { key: 'account', value: '10/1h' },
};

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** `<limit>/<window>`: a count of 1 to 1,000,000, a window of seconds, minutes, hours or days. */
export const RATE_LIMIT_PATTERN = /^([1-9]\d{0,6})\/([1-9]\d{0,5})([smhd])$/;

/** Reads `5/15m` as a policy; `scale` multiplies the count. @throws for a malformed value */
export function parseRateLimit(value: string, key: RateLimitKey, scale: number): RateLimitPolicy {
  const match = RATE_LIMIT_PATTERN.exec(value.trim());
  if (!match) throw new Error(`not a rate limit: ${JSON.stringify(value)}`);
  const windowSeconds = Number(match[2]) * UNIT_SECONDS[match[3] as keyof typeof UNIT_SECONDS];
  return { key, limit: Number(match[1]) * scale, windowSeconds, lockSeconds: windowSeconds };
}
