import { InvalidUserInputError } from './activation.errors';
import {
  emailKey,
  emailProblems,
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
    ['jörg@müller.de', 'unicode letters in local part and domain'],
    ['用户@例子.中国', 'a CJK address with a CJK top-level domain'],
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
    expect(emailKey('j\u00f6rg@example.org')).toBe(emailKey('jo\u0308rg@example.org'));
  });

  it.each([
    ['Ann@Example.ORG', 'ann@example.org'],
    ['  ann@example.org  ', 'ann@example.org'],
    ['JÖRG@MÜLLER.DE', 'jörg@müller.de'],
  ])('keys %j as %j', (email, key) => {
    expect(emailKey(email)).toBe(key);
  });

  it('gives addresses that differ only in case the same key', () => {
    expect(emailKey('ANN@example.org')).toBe(emailKey('ann@EXAMPLE.org'));
  });
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
