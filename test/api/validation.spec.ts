/**
 * POST /users field rules, one by one: each field missing, of the wrong type, too short,
 * too long, with characters it may not have; the values just inside the limits are
 * accepted. A refused registration stores nothing.
 */
import request from 'supertest';
import { EMAIL_DOMAIN_NOT_IDNA, EMAIL_LOCAL_PART_NOT_ASCII } from '../../src/activation';
import { createTestApp, type TestApp } from '../support/test-app';
import { expectFieldErrors, newRegistration, register, userItem } from './api-helpers';

const FIELDS = ['username', 'email', 'name', 'password'] as const;
const EMOJI = '\u{1F511}'; // 🔑: one code point, two UTF-16 units

describe('POST /users validation', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await createTestApp();
  });
  afterAll(() => api.close());

  describe.each(FIELDS)('%s', (field) => {
    it('is required', async () => {
      const { [field]: _omitted, ...body } = newRegistration();

      const response = await register(api, body);

      expectFieldErrors(response, [field]);
      expect(response.body.errors[0].messages).toEqual([`${field} is required`]);
    });

    it('may not be null', async () => {
      const response = await register(api, { ...newRegistration(), [field]: null });

      expectFieldErrors(response, [field]);
    });

    it.each([
      ['a number', 12345678],
      ['a boolean', true],
      ['an array', ['abcdefgh']],
      ['an object', { value: 'abcdefgh' }],
    ])('must be a string, not %s', async (_kind, value) => {
      const registration = newRegistration();

      const response = await register(api, { ...registration, [field]: value });

      expectFieldErrors(response, [field]);
      expect(response.body.errors[0].messages).toEqual([`${field} must be a string`]);
      expect(await userItem(api, registration.username)).toBeUndefined();
    });
  });

  it('reports every broken field at once', async () => {
    const response = await register(api, {
      username: 'x',
      email: 'no-at-sign',
      name: '',
      password: 'short',
    });

    expectFieldErrors(response, ['username', 'email', 'name', 'password']);
  });

  describe('username', () => {
    it.each([
      ['2 characters', 'ab'],
      ['2 characters after trimming', '  ab  '],
      ['33 characters', 'a'.repeat(33)],
      ['empty', ''],
      ['a space inside', 'ada lovelace'],
      ['a symbol', 'ada$'],
      ['an at sign', 'ada@home'],
      ['a slash', 'ada/../x'],
      ['a non-ASCII letter', 'z\u00f6e'],
      ['an emoji', `ada${EMOJI}`],
      ['a NUL character', 'ada\u0000x'],
    ])('is refused with %s', async (_case, username) => {
      const response = await register(api, newRegistration({ username }));

      expectFieldErrors(response, ['username']);
    });

    // Tables are fresh for this file, so these fixed usernames are free.
    it.each([
      ['3 characters', 'a.b'],
      ['32 characters', 'a'.repeat(32)],
      ['dots, underscores, dashes and digits', '0.a_b-c'],
    ])('is accepted with %s', async (_case, username) => {
      const response = await register(api, newRegistration({ username }));

      expect(response.status).toBe(201);
      expect(response.body.username).toBe(username);
    });

    it('in upper case is accepted and normalised to lower case', async () => {
      const username = newRegistration().username;

      const response = await register(api, newRegistration({ username: username.toUpperCase() }));

      expect(response.status).toBe(201);
      expect(response.body.username).toBe(username);
    });
  });

  describe('email', () => {
    it.each([
      ['no at sign', 'ada.example.org'],
      ['nothing before the at sign', '@example.org'],
      ['no dot in the domain', 'ada@localhost'],
      ['a one-letter top-level domain', 'ada@example.o'],
      ['a space inside', 'ada lovelace@example.org'],
      ['two at signs', 'ada@home@example.org'],
      ['a double dot', 'ada..l@example.org'],
      ['a quoted local part', '"ada"@example.org'],
      ['an IP-literal domain', 'ada@[127.0.0.1]'],
      ['a line break', 'ada@example.org\r\nBcc: x@example.org'],
      ['only white space', '   '],
      [
        '255 characters',
        `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(58)}.org`,
      ],
    ])('is refused with %s', async (_case, email) => {
      const response = await register(api, newRegistration({ email }));

      expectFieldErrors(response, ['email']);
    });

    it('is accepted with 254 characters', async () => {
      const local = newRegistration().username.padEnd(64, 'x');
      const email = `${local}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.org`;
      expect(email).toHaveLength(254);

      const response = await register(api, newRegistration({ email }));

      expect(response.status).toBe(201);
    });

    it.each([
      ['a non-ASCII local part', '\u00fc@example.org', EMAIL_LOCAL_PART_NOT_ASCII],
      [
        'a non-ASCII local part and a Unicode domain',
        'j\u00f6rg@m\u00fcller.de',
        EMAIL_LOCAL_PART_NOT_ASCII,
      ],
      [
        'a domain that is no internationalised domain name',
        'ada@\u0300b.example',
        EMAIL_DOMAIN_NOT_IDNA,
      ],
      ['Punycode that does not decode', 'ada@xn--a.example', EMAIL_DOMAIN_NOT_IDNA],
    ])('is refused with %s, saying why, and nothing is stored', async (_case, email, message) => {
      const registration = newRegistration({ email });

      const response = await register(api, registration);

      expectFieldErrors(response, ['email']);
      expect(response.body.errors).toEqual([{ field: 'email', messages: [message] }]);
      expect(await userItem(api, registration.username)).toBeUndefined();
    });

    it('says in the answer what a non-ASCII local part breaks', async () => {
      const response = await register(api, newRegistration({ email: '\u00fc@example.org' }));

      expect(response.body.errors[0].messages[0]).toBe(
        "email must use only ASCII letters, digits and !#$%&'*+/=?^_`{|}~.- before the @ (mail to other characters cannot be delivered)",
      );
    });

    it('is accepted with a plus tag and an internationalised domain', async () => {
      const email = `${newRegistration().username}+cards@b\u00fccher.example`;

      const response = await register(api, newRegistration({ email }));

      expect(response.status).toBe(201);
      expect(response.body.email).toBe(email);
    });
  });

  describe('name', () => {
    it.each([
      ['empty', ''],
      ['only white space', ' \t '],
      ['101 characters', 'n'.repeat(101)],
      ['101 emoji', EMOJI.repeat(101)],
      ['a line break', 'Ada\nLovelace'],
      ['a carriage return', 'Ada\rLovelace'],
      ['a tab inside', 'Ada\tLovelace'],
      ['a NUL character', 'Ada\u0000'],
      ['a Unicode line separator', 'Ada\u2028Lovelace'],
      ['a DEL character', 'Ada\u007f'],
    ])('is refused when %s', async (_case, name) => {
      const response = await register(api, newRegistration({ name }));

      expectFieldErrors(response, ['name']);
    });

    it.each([
      ['a CJK name', '李小龍'],
      ['a diaeresis', 'Zoë'],
      ['one character', 'X'],
      ['100 characters', 'n'.repeat(100)],
      ['100 emoji, each counted as one character', EMOJI.repeat(100)],
      ['100 characters once composed to NFC', 'e\u0301'.repeat(100)],
    ])('is accepted with %s', async (_case, name) => {
      const response = await register(api, newRegistration({ name }));

      expect(response.status).toBe(201);
      expect(response.body.name).toBe(name.normalize('NFC'));
    });
  });

  describe('password', () => {
    it.each([
      ['7 characters', 'p'.repeat(7)],
      ['129 characters', 'p'.repeat(129)],
      ['7 emoji (14 UTF-16 units)', EMOJI.repeat(7)],
      ['129 emoji', EMOJI.repeat(129)],
      ['empty', ''],
    ])('is refused with %s', async (_case, password) => {
      const response = await register(api, newRegistration({ password }));

      expectFieldErrors(response, ['password']);
      expect(response.text).not.toContain(password || '""');
    });

    it.each([
      ['8 characters', 'p'.repeat(8)],
      ['128 characters', 'p'.repeat(128)],
      ['8 emoji', EMOJI.repeat(8)],
      ['128 emoji (256 UTF-16 units)', EMOJI.repeat(128)],
      ['8 spaces (never trimmed)', ' '.repeat(8)],
    ])('is accepted with %s', async (_case, password) => {
      const response = await register(api, newRegistration({ password }));

      expect(response.status).toBe(201);
    });
  });

  describe('unknown and reserved fields', () => {
    it.each(['isAdmin', 'activationStatus', 'passwordHash', 'createdAt'])(
      'refuses the unknown field %s and names it',
      async (field) => {
        const registration = newRegistration();

        const response = await register(api, { ...registration, [field]: 'DONE' });

        expectFieldErrors(response, [field]);
        expect(response.body.errors[0].messages).toEqual([`property ${field} should not exist`]);
        expect(await userItem(api, registration.username)).toBeUndefined();
      },
    );

    it.each(['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'])(
      'refuses the key %s instead of dropping it silently',
      async (key) => {
        const registration = newRegistration();
        // Written as JSON text: an object literal would treat __proto__ as the prototype.
        const json = `{${JSON.stringify(key)}:{"isAdmin":true},${JSON.stringify(registration).slice(1)}`;

        const response = await request(api.http).post('/users').type('application/json').send(json);

        expectFieldErrors(response, [key]);
        expect(response.body.errors[0].messages).toEqual([`property ${key} should not exist`]);
        expect(await userItem(api, registration.username)).toBeUndefined();
      },
    );
  });
});
