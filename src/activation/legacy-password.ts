/**
 * The plaintext `password` of an item the Spring app wrote (../docs/taking-over-the-spring-app.md).
 * Held only until the first sign-in that proves it, which replaces it by its Argon2id hash.
 *
 * It never shows: `String()`, JSON, `util.inspect` (so pino and console too) print a
 * placeholder; only `matches` (constant time) and `revealForConditionalWrite` (the one
 * store write that removes it, and must name it in its condition) read the value.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';

const REDACTED = '[legacy plaintext password]';

export class LegacyPassword {
  readonly #plaintext: string;

  constructor(plaintext: string) {
    this.#plaintext = plaintext;
  }

  /**
   * Whether `candidate` is this password, in time that does not depend on where they
   * differ, or on their lengths: both are compared as SHA-256 digests.
   */
  matches(candidate: string): boolean {
    const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
    return timingSafeEqual(digest(candidate), digest(this.#plaintext));
  }

  /** For the conditional write that removes it (`password = :plaintext`), and nothing else. */
  revealForConditionalWrite(): string {
    return this.#plaintext;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
