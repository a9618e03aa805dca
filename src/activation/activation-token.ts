/**
 * Activation tokens: 256 bits from the CSPRNG, sent only in the mail, stored only as a
 * SHA-256 hash. A fast hash is enough here (unlike passwords): a random 256-bit token
 * cannot be guessed from its hash, however many hashes per second an attacker has.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const TOKEN_BYTES = 32;
/** base64url of 32 bytes, no padding. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const HASH_PATTERN = /^[0-9a-f]{64}$/;

export interface MintedActivationToken {
  /** Goes into the link, nowhere else. */
  readonly token: string;
  /** Goes into the store. */
  readonly hash: string;
}

export function mintActivationToken(): MintedActivationToken {
  const token = randomBytes(TOKEN_BYTES).toString('base64url');
  return { token, hash: hashActivationToken(token) };
}

export function hashActivationToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Whether a string could be a token we minted (checked before any lookup). */
export function isWellFormedActivationToken(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}

/** Constant-time comparison of a presented token with a stored hash. */
export function activationTokenMatches(token: string, storedHash: string | undefined): boolean {
  if (storedHash === undefined || !HASH_PATTERN.test(storedHash)) return false;
  return timingSafeEqual(
    Buffer.from(hashActivationToken(token), 'hex'),
    Buffer.from(storedHash, 'hex'),
  );
}
