import { createHash, timingSafeEqual } from 'node:crypto';
import {
  activationTokenMatches,
  hashActivationToken,
  isWellFormedActivationToken,
  mintActivationToken,
} from './activation-token';

// Spied on, not changed: the constant-time comparison is a requirement no result shows.
jest.mock('node:crypto', () => {
  const actual = jest.requireActual<typeof import('node:crypto')>('node:crypto');
  return { ...actual, timingSafeEqual: jest.fn(actual.timingSafeEqual) };
});

describe('mintActivationToken', () => {
  it('mints a 43-character base64url token of 32 random bytes', () => {
    const { token } = mintActivationToken();

    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
  });

  it('mints a different token each time', () => {
    const tokens = Array.from({ length: 1000 }, () => mintActivationToken().token);

    expect(new Set(tokens).size).toBe(1000);
  });

  it('returns the SHA-256 hex hash of the token alongside it', () => {
    const { token, hash } = mintActivationToken();

    expect(hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(hash).not.toContain(token);
  });
});

describe('hashActivationToken', () => {
  it('is SHA-256 in lower-case hex (the FIPS 180-2 test vector for "abc")', () => {
    expect(hashActivationToken('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});

describe('activationTokenMatches', () => {
  it('matches a token with its own stored hash', () => {
    const { token, hash } = mintActivationToken();

    expect(activationTokenMatches(token, hash)).toBe(true);
  });

  it('does not match a token with the hash of another token', () => {
    const { token } = mintActivationToken();
    const other = mintActivationToken();

    expect(activationTokenMatches(token, other.hash)).toBe(false);
  });

  it('does not match the stored hash presented as if it were the token', () => {
    const { hash } = mintActivationToken();

    expect(activationTokenMatches(hash, hash)).toBe(false);
  });

  it('compares in constant time, through crypto.timingSafeEqual', () => {
    const { token, hash } = mintActivationToken();
    jest.mocked(timingSafeEqual).mockClear();

    const matches = activationTokenMatches(token, hash);

    expect(matches).toBe(true);
    expect(timingSafeEqual).toHaveBeenCalledTimes(1);
  });

  it('does not match when no hash is stored', () => {
    expect(activationTokenMatches(mintActivationToken().token, undefined)).toBe(false);
  });

  it.each<[string, (hash: string) => string]>([
    ['empty', () => ''],
    ['one character short', (hash) => hash.slice(1)],
    ['one character long', (hash) => `${hash}0`],
    ['in upper case', (hash) => hash.toUpperCase()],
    ['not hex', (hash) => `zz${hash.slice(2)}`],
    ['base64 instead of hex', (hash) => Buffer.from(hash, 'hex').toString('base64')],
    ['with surrounding space', (hash) => ` ${hash} `],
  ])('answers false, without throwing, for a stored hash that is %s', (_case, spoil) => {
    const { token, hash } = mintActivationToken();

    expect(activationTokenMatches(token, spoil(hash))).toBe(false);
  });
});

describe('isWellFormedActivationToken', () => {
  it('accepts a minted token', () => {
    expect(isWellFormedActivationToken(mintActivationToken().token)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['42 characters', 'a'.repeat(42)],
    ['44 characters', 'a'.repeat(44)],
    ['with base64 padding', `${'a'.repeat(42)}=`],
    ['with "+" (base64, not base64url)', `${'a'.repeat(42)}+`],
    ['with "/" (base64, not base64url)', `${'a'.repeat(42)}/`],
    ['with a space', `${'a'.repeat(21)} ${'a'.repeat(21)}`],
    ['with a trailing line break', `${'a'.repeat(43)}\n`],
    ['with a non-ASCII letter', `${'a'.repeat(42)}é`],
    ['a SHA-256 hex hash', 'a'.repeat(64)],
  ])('refuses a token that is %s', (_case, token) => {
    expect(isWellFormedActivationToken(token)).toBe(false);
  });
});
