import { Argon2idPasswordHasher, OWASP_ARGON2ID_COST } from './password-hasher';

const PASSWORD = 'correct horse battery staple';
// 16-byte salt and 32-byte tag, base64 without padding.
const PHC_OWASP = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/;

/** Splits a PHC string into `['', 'argon2id', 'v=19', 'm=...,t=...,p=...', salt, tag]`. */
const parts = (hash: string) => hash.split('$');

describe('Argon2idPasswordHasher', () => {
  const hasher = new Argon2idPasswordHasher();
  let stored: string;

  beforeAll(async () => {
    stored = await hasher.hash(PASSWORD);
  });

  it('uses the OWASP cost by default', () => {
    expect(OWASP_ARGON2ID_COST).toEqual({ memory: 19_456, passes: 2, parallelism: 1 });
  });

  it('produces a PHC string with algorithm, version, cost, salt and tag', () => {
    expect(stored).toMatch(PHC_OWASP);
  });

  it('does not contain the password', () => {
    expect(stored).not.toContain(PASSWORD);
  });

  it('uses a fresh salt for every hash of the same password', async () => {
    const again = await hasher.hash(PASSWORD);

    expect(parts(again)[4]).not.toBe(parts(stored)[4]);
    expect(again).not.toBe(stored);
  });

  it('verifies the right password', async () => {
    await expect(hasher.verify(PASSWORD, stored)).resolves.toBe(true);
  });

  it.each([
    ['a different password', 'wrong horse battery staple'],
    ['a change of case', PASSWORD.toUpperCase()],
    ['a trailing space', `${PASSWORD} `],
    ['the empty string', ''],
  ])('rejects %s', async (_case, attempt) => {
    await expect(hasher.verify(attempt, stored)).resolves.toBe(false);
  });

  it('treats the composed and decomposed forms of a password as the same (NFC)', async () => {
    const composed = 'caf\u00e9 au lait';
    const decomposed = 'cafe\u0301 au lait';
    expect(decomposed).not.toBe(composed);

    const fromComposed = await hasher.hash(composed);
    const fromDecomposed = await hasher.hash(decomposed);

    await expect(hasher.verify(decomposed, fromComposed)).resolves.toBe(true);
    await expect(hasher.verify(composed, fromDecomposed)).resolves.toBe(true);
  });

  it('verifies a hash made with a lower cost, reading the cost from the hash', async () => {
    const cheap = new Argon2idPasswordHasher({ memory: 8_192, passes: 1, parallelism: 1 });
    const oldHash = await cheap.hash(PASSWORD);
    expect(parts(oldHash)[3]).toBe('m=8192,t=1,p=1');

    await expect(hasher.verify(PASSWORD, oldHash)).resolves.toBe(true);
    await expect(hasher.verify('wrong password', oldHash)).resolves.toBe(false);
  });

  describe('with a malformed or hostile stored hash', () => {
    /** The stored hash with one of its `$`-separated parts replaced. */
    const withPart = (index: number, value: string) => {
      const p = parts(stored);
      p[index] = value;
      return p.join('$');
    };

    it.each<[string, () => string]>([
      ['the empty string', () => ''],
      ['plain text', () => 'not a hash'],
      ['the password itself', () => PASSWORD],
      ['a bcrypt hash', () => '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'],
      ['argon2i instead of argon2id', () => withPart(1, 'argon2i')],
      ['another version', () => withPart(2, 'v=16')],
      ['a missing cost', () => withPart(3, '')],
      ['cost in another order', () => withPart(3, 't=2,m=19456,p=1')],
      ['a salt with characters outside base64', () => withPart(4, 'not*base64!')],
      ['a missing tag', () => stored.slice(0, stored.lastIndexOf('$'))],
      ['a trailing newline', () => `${stored}\n`],
      ['base64url characters in the tag', () => withPart(5, parts(stored)[5]!.replace(/.$/, '_'))],
    ])('answers false for %s', async (_case, hash) => {
      await expect(hasher.verify(PASSWORD, hash())).resolves.toBe(false);
    });

    it.each<[string, () => string]>([
      ['memory 0', () => withPart(3, 'm=0,t=2,p=1')],
      ['memory below the minimum of 8 KiB', () => withPart(3, 'm=7,t=2,p=1')],
      ['0 passes', () => withPart(3, 'm=19456,t=0,p=1')],
      ['parallelism 0', () => withPart(3, 'm=19456,t=2,p=0')],
      ['a salt of 3 bytes', () => withPart(4, 'AAAA')],
      ['a tag of 1 byte', () => withPart(5, 'AA')],
      ['a tag of 0 bytes', () => withPart(5, 'A')],
    ])(
      'answers false, not an exception, for a cost or size argon2 refuses: %s',
      async (_case, hash) => {
        await expect(hasher.verify(PASSWORD, hash())).resolves.toBe(false);
      },
    );

    it.each([
      ['memory', 'm=99999999999,t=2,p=1'],
      ['memory just over 1 GiB', `m=${(1 << 20) + 1},t=2,p=1`],
      ['passes', 'm=19456,t=1000000,p=1'],
      ['parallelism', 'm=19456,t=2,p=1000'],
      ['memory with 400 digits', `m=${'9'.repeat(400)},t=2,p=1`],
    ])('answers false at once for an absurd %s', async (_case, cost) => {
      const started = performance.now();

      const verified = await hasher.verify(PASSWORD, withPart(3, cost));

      expect(verified).toBe(false);
      expect(performance.now() - started).toBeLessThan(250);
    });
  });
});
