import { InvalidUserInputError } from './activation.errors';
import {
  deliveryAddress,
  EMAIL_DOMAIN_NOT_IDNA,
  EMAIL_LOCAL_PART_NOT_ASCII,
  emailKey,
  emailProblems,
  legacyEmailKey,
  legacyEmailKeys,
  nameProblems,
  normaliseEmail,
  normaliseName,
  normaliseRegistration,
  normaliseUsername,
  passwordProblems,
  usernameProblems,
} from './user-rules';

const EMOJI = '\u{1F600}'; // one code point, two UTF-16 code units

function errorOf(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the action to throw');
}

describe('username', () => {
  it.each([
    ['Alice', 'alice'],
    ['  bob\t', 'bob'],
    ['\u00a0CAROL.X_1-2 ', 'carol.x_1-2'],
  ])('normalises %j to %j (trimmed, lower case)', (raw, expected) => {
    expect(normaliseUsername(raw)).toBe(expected);
  });

  it.each([
    ['abc', 'the minimum of 3 characters'],
    ['a'.repeat(32), 'the maximum of 32 characters'],
    ['a.b_c-d', 'dot, underscore and hyphen'],
    ['user42', 'digits'],
    ['007', 'only digits'],
  ])('accepts %j (%s)', (username) => {
    expect(usernameProblems(username)).toEqual([]);
  });

  it.each([
    ['ab', 'one below the minimum'],
    ['a'.repeat(33), 'one above the maximum'],
  ])('refuses the length of %j (%s)', (username) => {
    expect(usernameProblems(username)).toEqual(['username must be 3 to 32 characters long']);
  });

  it.each([
    ['Alice', 'upper case (normalisation comes first)'],
    ['ann lee', 'a space'],
    ['ann@home', 'an at sign'],
    ['ann+1', 'a plus sign'],
    ['jürgen', 'a letter outside a-z'],
    ['ann/lee', 'a slash'],
  ])('refuses the characters of %j (%s)', (username) => {
    expect(usernameProblems(username)).toEqual([
      'username may contain only lowercase letters a-z, digits 0-9, ".", "_" and "-"',
    ]);
  });

  it('reports a wrong length and wrong characters together', () => {
    expect(usernameProblems('a!')).toHaveLength(2);
  });

  it('refuses an empty username for its length and its characters', () => {
    expect(usernameProblems('')).toHaveLength(2);
  });
});

describe('email', () => {
  const local64 = 'l'.repeat(64);
  // 254 characters in all: 'a@', three labels of 63 and one of 56, each followed by a dot, then 'org'.
  const longest = `a@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.${'e'.repeat(56)}.org`;

  it('builds the boundary addresses it means to', () => {
    expect(longest).toHaveLength(254);
  });

  it.each([
    ['ann@example.org', 'plain'],
    ['Ann.Lee@Example.ORG', 'mixed case and a dotted local part'],
    ['ann+newsletter@example.org', 'plus addressing'],
    ["o'brien_x-1@example.org", 'apostrophe, underscore and hyphen'],
    ['ann@mail.eu.example.co.uk', 'subdomains'],
    ['ann@my-host.example.org', 'a hyphen inside a label'],
    ['jorg@müller.de', 'unicode letters in the domain'],
    ['user@例子.中国', 'a CJK domain with a CJK top-level domain'],
    ['ann@xn--mller-kva.xn--p1ai', 'punycode labels and top-level domain'],
    ['ann@123.example.org', 'a numeric label'],
    [`${local64}@example.org`, 'a local part of exactly 64 characters'],
    [longest, 'exactly 254 characters'],
  ])('accepts %j (%s)', (email) => {
    expect(emailProblems(email)).toEqual([]);
  });

  it.each([
    ['annexample.org', 'no at sign'],
    ['@example.org', 'an empty local part'],
    ['ann@', 'an empty domain'],
    ['ann@example', 'no dot in the domain'],
    ['ann@example.c', 'a one-letter top-level domain'],
    ['ann@example.123', 'a numeric top-level domain'],
    ['ann lee@example.org', 'a space in the local part'],
    ['ann@exam ple.org', 'a space in the domain'],
    ['ann@example.org ', 'a trailing space (normalisation trims before this)'],
    ['ann@lee@example.org', 'two at signs'],
    ['ann@@example.org', 'a doubled at sign'],
    ['.ann@example.org', 'a leading dot in the local part'],
    ['ann.@example.org', 'a trailing dot in the local part'],
    ['ann..lee@example.org', 'consecutive dots in the local part'],
    ['ann@example..org', 'consecutive dots in the domain'],
    ['ann@.example.org', 'a leading dot in the domain'],
    ['ann@-example.org', 'a label starting with a hyphen'],
    ['ann@example-.org', 'a label ending with a hyphen'],
    ['"ann lee"@example.org', 'a quoted local part'],
    ['ann@[192.0.2.1]', 'an IP-literal domain'],
    ['ann\n@example.org', 'a line break'],
    [`${local64}l@example.org`, 'a local part of 65 characters'],
    [`ann@${'x'.repeat(64)}.org`, 'a domain label of 64 characters'],
  ])('refuses %j (%s)', (email) => {
    expect(emailProblems(email)).toEqual(['email must be a valid email address']);
  });

  it('refuses an address of 255 characters with a length message', () => {
    const tooLong = `a${longest}`;

    expect(emailProblems(tooLong)).toEqual(['email must be at most 254 characters long']);
  });

  it('normalises by trimming and NFC only, keeping the letter case', () => {
    expect(normaliseEmail('  Ann@Example.org\t')).toBe('Ann@Example.org');
    expect(normaliseEmail('jo\u0308rg@example.org')).toBe('j\u00f6rg@example.org');
  });

  it('accepts scripts written with combining marks, such as a Devanagari top-level domain', () => {
    expect(
      emailProblems('user@\u0909\u0926\u093e\u0939\u0930\u0923.\u092d\u093e\u0930\u0924'),
    ).toEqual([]);
  });

  it('gives composed and decomposed forms of one address the same key', () => {
    expect(emailKey('ann@b\u00fccher.example')).toBe(emailKey('ann@bu\u0308cher.example'));
  });

  it.each([
    ['Ann@Example.ORG', 'ann@example.org'],
    ['  ann@example.org  ', 'ann@example.org'],
    ['JORG@MÜLLER.DE', 'jorg@xn--mller-kva.de'],
  ])('keys %j as %j', (email, key) => {
    expect(emailKey(email)).toBe(key);
  });

  it('gives addresses that differ only in case the same key', () => {
    expect(emailKey('ANN@example.org')).toBe(emailKey('ann@EXAMPLE.org'));
  });
});

describe('email identity: one key per mailbox, the key of the address as delivered', () => {
  it.each([
    ['x@bücher.example', 'the domain in Unicode'],
    ['x@xn--bcher-kva.example', 'the domain in Punycode'],
    ['x@\u{1D41B}ücher.example', 'a mathematical bold b (a compatibility form)'],
    ['X@BÜCHER.EXAMPLE', 'upper case'],
    ['x@bu\u0308cher.example', 'a combining diaeresis'],
    [' x@XN--BCHER-KVA.example ', 'upper-case Punycode, surrounding spaces'],
  ])('keys %j (%s) as the one mailbox x@xn--bcher-kva.example', (email) => {
    expect(emailProblems(normaliseEmail(email))).toEqual([]);
    expect(emailKey(email)).toBe('x@xn--bcher-kva.example');
  });

  it('keys fw@ｘ.org (a fullwidth x) as fw@x.org, the mailbox it is delivered to', () => {
    expect(emailKey('fw@\uff58.org')).toBe(emailKey('fw@x.org'));
    expect(emailKey('fw@\uff58.org')).toBe('fw@x.org');
  });

  it('folds compatibility forms in the local part and the at sign too', () => {
    expect(emailKey('\uff46\uff57\uff20\uff58\uff0e\uff4f\uff52\uff47')).toBe('fw@x.org');
    expect(emailKey('\ufb01nn@example.org')).toBe('finn@example.org');
  });

  it('ignores letter case in the local part for the key, and keeps it in the delivery address', () => {
    expect(emailKey('Ann.Lee@Bücher.Example')).toBe(emailKey('ann.lee@bücher.example'));
    expect(deliveryAddress('Ann.Lee@Bücher.Example')).toBe('Ann.Lee@xn--bcher-kva.example');
  });

  it('delivers to the ASCII form of the domain, as UTS #46 (non-transitional) maps it', () => {
    expect(deliveryAddress('x@\u{1D41B}ücher.example')).toBe('x@xn--bcher-kva.example');
    expect(deliveryAddress('user@例子.中国')).toBe('user@xn--fsqu00a.xn--fiqs8s');
    expect(deliveryAddress('x@faß.de')).toBe('x@xn--fa-hia.de');
    expect(deliveryAddress('x@ex\u00adample.org')).toBe('x@example.org');
  });

  it.each([
    ['ü@example.org', 'a non-ASCII letter'],
    ['jörg@müller.de', 'a non-ASCII letter and an internationalised domain'],
    ['用户@例子.中国', 'CJK'],
    ['ann\u00a0lee@example.org'.replace('\u00a0', '\u0301'), 'a combining mark'],
    ['\ud800ann@example.org', 'a lone surrogate'],
  ])('refuses a local part with %j (%s) as one that cannot be delivered', (email) => {
    expect(emailProblems(email)).toEqual([EMAIL_LOCAL_PART_NOT_ASCII]);
    expect(deliveryAddress(email)).toBeUndefined();
  });

  it('says which part is wrong, and how, in words that name the field', () => {
    expect(EMAIL_LOCAL_PART_NOT_ASCII).toMatch(
      /^email .*ASCII.* before the @ .*cannot be delivered/,
    );
    expect(EMAIL_DOMAIN_NOT_IDNA).toMatch(/^email .*domain after the @/);
    expect(emailProblems('ü@\u0300b.example')).toEqual([
      EMAIL_LOCAL_PART_NOT_ASCII,
      EMAIL_DOMAIN_NOT_IDNA,
    ]);
  });

  it.each([
    ['x@\u0300b.example', 'a label that starts with a combining mark'],
    ['x@a\u200db.example', 'a zero-width joiner out of its context'],
    ['x@xn--a.example', 'Punycode that does not decode'],
    ['x@xn--bucher-xyd.example', 'Punycode of a form UTS #46 would write otherwise (not NFC)'],
    ['x@xn--bcher-2pa.example', 'Punycode of an upper-case letter'],
    ['x@ab.xn--', 'an empty Punycode top-level domain'],
  ])('refuses a domain with %s as no internationalised domain name (%j)', (email) => {
    expect(emailProblems(`${email}`)).toEqual([EMAIL_DOMAIN_NOT_IDNA]);
    expect(deliveryAddress(email)).toBeUndefined();
  });

  it.each([
    ['x@exa\tmple.org', 'a tab, which the URL standard would drop'],
    ['x@exa\nmple.org', 'a line break, which the URL standard would drop'],
    ['x@ex%41mple.org', 'a percent sign, which the URL standard would decode'],
    ['x@0x7f.1', 'a number the URL standard reads as an IPv4 address'],
    ['x@a\uff3fb.example', 'a fullwidth low line, which maps to "_"'],
    ['x@a\u3000b.example', 'an ideographic space'],
    ['x@example.org\u3002', 'an ideographic full stop at the end (an empty label)'],
    [`x@${'ü'.repeat(60)}.example`, 'a label longer than 63 characters in ASCII'],
  ])('refuses %j (%s)', (email) => {
    expect(emailProblems(email)).toEqual(['email must be a valid email address']);
  });

  it('refuses an address of at most 254 characters as typed but longer in ASCII', () => {
    const label = (offset: number) =>
      Array.from({ length: 20 }, (_, i) => String.fromCodePoint(0x4e00 + offset + i * 97)).join('');
    const email = `${'l'.repeat(64)}@${[0, 3, 5, 9].map(label).join('.')}.org`;
    expect(email.length).toBeLessThanOrEqual(254);

    expect(emailProblems(email)).toEqual([
      'email must be at most 254 characters long with its domain in ASCII (as it is delivered)',
    ]);
  });

  it('throws the field error from emailKey for an address that cannot be delivered', () => {
    const error = errorOf(() => emailKey('ü@example.org'));

    expect(error).toBeInstanceOf(InvalidUserInputError);
    expect((error as InvalidUserInputError).errors).toEqual([
      { field: 'email', messages: [EMAIL_LOCAL_PART_NOT_ASCII] },
    ]);
  });
});

describe('email keys of the rules before (legacy keys)', () => {
  // Every character of the dot-atom alphabet, both cases, in each part of an address.
  const ATOM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-";
  const LDH = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-';

  /** A small deterministic generator (mulberry32), so a failure can be reproduced. */
  function random(seed: number): () => number {
    let state = seed;
    return () => {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it('gives every deliverable ASCII address the key it had before', () => {
    const next = random(20261203);
    const pick = (alphabet: string, length: number) =>
      Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
    const addresses = [
      // each ASCII code point once in the local part and once in the domain
      ...Array.from({ length: 128 }, (_, c) => `a${String.fromCharCode(c)}b@Example.org`),
      ...Array.from({ length: 128 }, (_, c) => `ab@Ex${String.fromCharCode(c)}ample.ORG`),
      ...Array.from({ length: 2000 }, () => {
        const local = [
          pick(ATOM, 1 + Math.floor(next() * 12)),
          pick(ATOM, 1 + Math.floor(next() * 5)),
        ];
        const labels = Array.from({ length: 1 + Math.floor(next() * 3) }, () =>
          pick(LDH, 1 + Math.floor(next() * 10)),
        );
        return `${local.join('.')}@${labels.join('.')}.${pick('abcXYZ', 2 + Math.floor(next() * 3))}`;
      }),
    ];
    const deliverable = addresses.filter((email) => emailProblems(email).length === 0);
    expect(deliverable.length).toBeGreaterThan(1500);

    for (const email of deliverable) {
      expect([email, emailKey(email)]).toEqual([email, legacyEmailKey(email)]);
      expect([email, legacyEmailKeys(email)]).toEqual([email, []]);
    }
  });

  it('computes the old key as before: NFC, trimmed, lower-cased as a whole', () => {
    expect(legacyEmailKey(' X@𝐛Ücher.example ')).toBe('x@𝐛ücher.example');
    expect(legacyEmailKey('x@bu\u0308cher.example')).toBe('x@b\u00fccher.example');
  });

  it.each([
    ['x@bücher.example', ['x@bücher.example']],
    ['X@XN--BCHER-KVA.example', ['x@bücher.example']],
    ['x@\u{1D41B}ücher.example', ['x@\u{1D41B}ücher.example', 'x@bücher.example']],
    ['fw@\uff58.org', ['fw@\uff58.org']],
    ['fw@x.org', []],
  ])(
    'looks for %j also under the old keys %j (as typed, and the canonical Unicode form)',
    (email, keys) => {
      expect(legacyEmailKeys(email)).toEqual(keys);
    },
  );
});

describe('name', () => {
  it('brings a decomposed name to NFC', () => {
    const decomposed = 'Rene\u0301e';

    const name = normaliseName(decomposed);

    expect(name).toBe('Ren\u00e9e');
    expect(name).toHaveLength(5);
  });

  it('trims the ends but keeps inner spaces and letter case', () => {
    expect(normaliseName('  Ann  van der Berg \n')).toBe('Ann  van der Berg');
  });

  it.each([
    ['A', 'one character'],
    ['a'.repeat(100), '100 characters'],
    [EMOJI.repeat(100), '100 emoji (200 UTF-16 code units)'],
    ['李小龍', 'Chinese'],
    ['Ἀχιλλεύς', 'Greek'],
    ['محمد عبد الله', 'Arabic'],
    ['Сергей Петров', 'Cyrillic'],
    ['Zoë O\u2019Brien-Smith', 'diacritics, apostrophe and hyphen'],
  ])('accepts %j (%s)', (name) => {
    expect(nameProblems(name)).toEqual([]);
  });

  it.each([
    ['', 'empty'],
    ['a'.repeat(101), '101 characters'],
    [EMOJI.repeat(101), '101 emoji'],
  ])('refuses the length of %j (%s)', (name) => {
    expect(nameProblems(name)).toEqual(['name must be 1 to 100 characters long']);
  });

  it('refuses a name that is only white space, once normalised', () => {
    expect(nameProblems(normaliseName(' \t '))).toEqual(['name must be 1 to 100 characters long']);
  });

  it.each([
    ['Ann\nLee', 'a line feed'],
    ['Ann\r\nLee', 'CR LF'],
    ['Ann\tLee', 'a tab'],
    ['Ann\u0000', 'NUL'],
    ['Ann\u007f', 'DEL'],
    ['Ann\u0085Lee', 'NEL'],
    ['Ann\u2028Lee', 'LINE SEPARATOR'],
    ['Ann\u2029Lee', 'PARAGRAPH SEPARATOR'],
  ])('refuses %j (%s)', (name) => {
    expect(nameProblems(name)).toEqual(['name must not contain control characters or line breaks']);
  });
});

describe('password', () => {
  it.each([
    ['12345678', '8 characters'],
    ['x'.repeat(128), '128 characters'],
    [EMOJI.repeat(8), '8 emoji'],
    [EMOJI.repeat(128), '128 emoji (256 UTF-16 code units)'],
    ['        ', 'eight spaces: no composition rules'],
  ])('accepts %j (%s)', (password) => {
    expect(passwordProblems(password)).toEqual([]);
  });

  it.each([
    ['', 'empty'],
    ['1234567', '7 characters'],
    ['x'.repeat(129), '129 characters'],
    [EMOJI.repeat(7), '7 emoji (14 UTF-16 code units)'],
    [EMOJI.repeat(129), '129 emoji'],
  ])('refuses %j (%s)', (password) => {
    expect(passwordProblems(password)).toEqual(['password must be 8 to 128 characters long']);
  });
});

describe('normaliseRegistration', () => {
  const valid = {
    username: '  Alice ',
    email: ' Alice@Example.org ',
    name: ' Rene\u0301e ',
    password: '  secret words  ',
  };

  it('returns the normalised registration', () => {
    const registration = normaliseRegistration(valid);

    expect(registration).toEqual({
      username: 'alice',
      email: 'Alice@Example.org',
      name: 'Ren\u00e9e',
      password: '  secret words  ',
    });
  });

  it('counts and keeps the spaces around a password (6 characters trimmed, 8 as typed)', () => {
    const registration = normaliseRegistration({ ...valid, password: ' 123456 ' });

    expect(registration.password).toBe(' 123456 ');
  });

  it('checks the username after normalisation', () => {
    expect(normaliseRegistration({ ...valid, username: ' ABC ' }).username).toBe('abc');
  });

  it('reports every broken field at once, in field order', () => {
    const error = errorOf(() =>
      normaliseRegistration({ username: 'a b', email: 'nope', name: '   ', password: 'short' }),
    );

    expect(error).toBeInstanceOf(InvalidUserInputError);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((error as InvalidUserInputError).errors).toEqual([
      {
        field: 'username',
        messages: ['username may contain only lowercase letters a-z, digits 0-9, ".", "_" and "-"'],
      },
      { field: 'email', messages: ['email must be a valid email address'] },
      { field: 'name', messages: ['name must be 1 to 100 characters long'] },
      { field: 'password', messages: ['password must be 8 to 128 characters long'] },
    ]);
  });

  it('reports only the broken fields', () => {
    const error = errorOf(() =>
      normaliseRegistration({ ...valid, email: 'ann@example', name: 'Ann\nLee' }),
    );

    expect((error as InvalidUserInputError).errors.map((e) => e.field)).toEqual(['email', 'name']);
  });

  it('names the broken fields in the error message', () => {
    const error = errorOf(() => normaliseRegistration({ ...valid, username: 'ab' }));

    expect((error as Error).message).toBe(
      'Invalid input: username: username must be 3 to 32 characters long',
    );
  });
});

describe('malformed and invisible text', () => {
  it('refuses a name with a lone surrogate', () => {
    expect(nameProblems('a\ud800b')).toEqual(['name must be valid Unicode text']);
  });

  it.each(['\u200b', '\u200b\u200d', '\u2060'])('refuses the invisible name %j', (name) => {
    expect(nameProblems(normaliseName(name))).toEqual([
      'name must contain at least one letter, digit or symbol',
    ]);
  });

  it.each(['X Æ A-12', '\u{1F600}', '7'])('accepts the visible name %j', (name) => {
    expect(nameProblems(name)).toEqual([]);
  });

  it('refuses a password with a lone surrogate', () => {
    expect(passwordProblems('password\udc00')).toEqual(['password must be valid Unicode text']);
  });
});
