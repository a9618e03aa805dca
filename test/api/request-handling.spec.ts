/**
 * How the API treats the request itself, before any rule of a field: bodies that are not
 * JSON objects, wrong media types, oversize bodies, request ids, and the promise that no
 * client input produces a 500.
 */
import request from 'supertest';
import { createTestApp, type TestApp } from '../support/test-app';
import { allItems, expectApiError, newRegistration } from './api-helpers';

const postJsonText = (api: TestApp, path: string, text: string) =>
  request(api.http).post(path).type('application/json').send(text);

describe('request handling', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await createTestApp();
  });
  afterAll(() => api.close());

  describe('malformed JSON', () => {
    it.each([
      ['an unclosed object', '{"username":"ada"'],
      ['single quotes', "{'username':'ada'}"],
      ['a trailing comma', '{"username":"ada",}'],
      ['not JSON at all', 'username=ada'],
    ])('is 400 MALFORMED_JSON for %s', async (_case, text) => {
      const response = await postJsonText(api, '/users', text);

      expectApiError(response, 400, 'MALFORMED_JSON');
    });

    it('is 400 MALFORMED_JSON on /login too', async () => {
      const response = await postJsonText(api, '/login', '{"username":');

      expectApiError(response, 400, 'MALFORMED_JSON');
    });
  });

  describe('a JSON body that is not an object', () => {
    it.each([
      ['an array', '[]'],
      ['an array of a registration', JSON.stringify([newRegistration()])],
      ['a string', '"ada"'],
      ['null', 'null'],
      ['a number', '42'],
      ['a boolean', 'true'],
    ])('is a 400 for %s', async (_case, text) => {
      const response = await postJsonText(api, '/users', text);

      expect(response.status).toBe(400);
      expect(['MALFORMED_JSON', 'VALIDATION_FAILED']).toContain(response.body.code);
      expectApiError(response, 400, response.body.code);
    });

    it('does not register the user inside an array', async () => {
      const registration = newRegistration();

      await postJsonText(api, '/users', JSON.stringify([registration]));

      expect(await api.tables.users.findByUsername(registration.username)).toBeUndefined();
    });
  });

  describe('the media type', () => {
    it.each([
      ['text/plain', JSON.stringify(newRegistration())],
      [
        'multipart/form-data; boundary=x',
        '--x\r\nContent-Disposition: form-data; name="username"\r\n\r\nada\r\n--x--\r\n',
      ],
      ['application/xml', '<user><username>ada</username></user>'],
    ])('%s is refused with 415 UNSUPPORTED_MEDIA_TYPE', async (type, body) => {
      const response = await request(api.http).post('/users').set('Content-Type', type).send(body);

      expectApiError(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
      // The types the route does take: JSON, and the registration form's.
      expect(response.body.message).toBe(
        'Send the body as application/x-www-form-urlencoded or application/json.',
      );
    });

    it('text/plain is refused on /login as well', async () => {
      const response = await request(api.http)
        .post('/login')
        .set('Content-Type', 'text/plain')
        .send(JSON.stringify({ username: 'ada', password: 'x' }));

      expectApiError(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('a multipart form body registers nobody', async () => {
      const registration = newRegistration();
      // What a form with enctype="multipart/form-data" sends: a form, but not one it reads.
      const multipart = Object.entries(registration).reduce(
        (req, [name, value]) => req.field(name, String(value)),
        request(api.http).post('/users'),
      );

      const response = await multipart;

      expectApiError(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect(await api.tables.users.findByUsername(registration.username)).toBeUndefined();
    });

    it('a form body (the registration form) is answered with a page, not with JSON', async () => {
      const registration = newRegistration();

      const response = await request(api.http)
        .post('/users')
        .type('form')
        .send(registration as unknown as Record<string, string>);

      // The form flow itself is tested in test/api/pages.spec.ts.
      expect(response.status).toBe(201);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.text).toMatch(/^<!doctype html>\n/);
    });

    it('application/json with a charset parameter is accepted', async () => {
      const registration = newRegistration();

      const response = await request(api.http)
        .post('/users')
        .set('Content-Type', 'application/json; charset=utf-8')
        .send(JSON.stringify(registration));

      expect(response.status).toBe(201);
    });

    it('a body without a Content-Type is refused, not read as JSON', async () => {
      const registration = newRegistration();

      const response = await request(api.http)
        .post('/users')
        .set('Content-Type', '')
        .send(Buffer.from(JSON.stringify(registration)));

      expectApiError(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect(await api.tables.users.findByUsername(registration.username)).toBeUndefined();
    });
  });

  describe('the body size', () => {
    it('over 16 kB is refused with 413 PAYLOAD_TOO_LARGE', async () => {
      const body = { ...newRegistration(), name: 'n'.repeat(17 * 1024) };

      const response = await request(api.http).post('/users').send(body);

      expectApiError(response, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('just under 16 kB is read (and then judged by the field rules)', async () => {
      const body = { ...newRegistration(), name: 'n'.repeat(15 * 1024) };

      const response = await request(api.http).post('/users').send(body);

      expectApiError(response, 400, 'VALIDATION_FAILED');
      expect(response.body.errors).toEqual([
        { field: 'name', messages: [expect.stringContaining('1 to 100')] },
      ]);
    });
  });

  describe('request ids', () => {
    it('every response carries one, also an error response, which repeats it in the body', async () => {
      const ok = await request(api.http).get('/health');
      const error = await postJsonText(api, '/users', '{');

      expect(ok.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(error.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(error.body.requestId).toBe(error.headers['x-request-id']);
      expect(ok.headers['x-request-id']).not.toBe(error.headers['x-request-id']);
    });

    it('a safe incoming id is echoed', async () => {
      const response = await postJsonText(api, '/users', '{').set(
        'X-Request-Id',
        'client-42.retry_1:a',
      );

      expect(response.headers['x-request-id']).toBe('client-42.retry_1:a');
      expect(response.body.requestId).toBe('client-42.retry_1:a');
    });

    it.each([
      ['with a space', 'abc def'],
      ['with markup', '<script>'],
      ['longer than 128 characters', 'a'.repeat(129)],
    ])('an unsafe incoming id (%s) is replaced', async (_case, id) => {
      const response = await request(api.http).get('/health').set('X-Request-Id', id);

      expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('an unknown route', () => {
    it('is a 404 in the API error shape', async () => {
      const response = await request(api.http).get('/users/someone');

      expectApiError(response, 404, 'NOT_FOUND');
    });
  });

  describe('deeply nested values', () => {
    it('are refused with 400 naming the field, before anything recurses into them', async () => {
      const nested = '['.repeat(3000) + ']'.repeat(3000);

      const response = await postJsonText(api, '/users', `{"username":${nested},"email":"a@b.cd"}`);

      expectApiError(response, 400, 'VALIDATION_FAILED');
      expect(response.body.errors).toEqual([
        { field: 'username', messages: [expect.stringContaining('nested')] },
      ]);
    });
  });

  describe('odd input never causes a 500', () => {
    const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
    const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    const cases: [string, string, string][] = [
      ['/users', 'an empty body', ''],
      ['/users', 'an empty object', '{}'],
      ['/users', 'a UTF-8 byte order mark', `\ufeff${JSON.stringify(newRegistration())}`],
      [
        '/users',
        'huge numbers',
        '{"username":1e999,"email":-0,"name":9007199254740993,"password":-1e-999}',
      ],
      ['/users', 'a username nested 3000 arrays deep', `{"username":${deepArray(3000)}}`],
      ['/users', 'a body nested 7000 arrays deep', deepArray(7000)],
      ['/users', 'a field nested 2500 objects deep', `{"username":${deepObject(2500)}}`],
      ['/users', 'an unknown field nested 2500 objects deep', `{"x":${deepObject(2500)}}`],
      [
        '/users',
        'a lone surrogate in the username',
        '{"username":"\\ud800ab","email":"a@b.cd","name":"x","password":"12345678"}',
      ],
      ['/users', 'a duplicate key', '{"username":"a","username":{"x":1}}'],
      [
        '/users',
        'many unknown fields',
        JSON.stringify(Object.fromEntries(Array.from({ length: 900 }, (_, i) => [`f${i}`, i]))),
      ],
      ['/login', 'an empty username', '{"username":"","password":"whatever1"}'],
      ['/login', 'a username of white space', '{"username":"   ","password":"whatever1"}'],
      ['/login', 'an empty password', '{"username":"ada","password":""}'],
      [
        '/login',
        'a username nested 3000 arrays deep',
        `{"username":${deepArray(3000)},"password":"x"}`,
      ],
      ['/login', 'a lone surrogate', '{"username":"\\udfff","password":"\\ud800"}'],
      ['/login', 'an array', '[{"username":"ada","password":"whatever1"}]'],
      ['/login', 'null', 'null'],
      ['/login', 'wrong types', '{"username":["ada"],"password":{"$ne":null}}'],
      [
        '/login',
        'a 300-character username',
        JSON.stringify({ username: '\u{1F511}'.repeat(150), password: 'x' }),
      ],
      ['/logout', 'a malformed body', '{'],
    ];

    it.each(cases)('POST %s with %s', async (path, _case, text) => {
      const response = await postJsonText(api, path, text);

      expect(response.status).toBeGreaterThanOrEqual(200);
      expect(response.status).toBeLessThan(500);
      if (response.status >= 400) expectApiError(response, response.status, response.body.code);
    });

    it.each([
      ['an empty value', ''],
      ['a token of the right shape that was never issued', 'A'.repeat(43)],
      ['a JSON cookie', 'j:{"username":"ada"}'],
      ['a broken percent-encoding', '%E0%A4%A'],
      ['a very long value', 'x'.repeat(4000)],
    ])('GET /users/me and POST /logout with a session cookie of %s', async (_case, value) => {
      const cookie = `card_store_session=${value}`;

      const me = await request(api.http).get('/users/me').set('Cookie', cookie);
      const logout = await request(api.http).post('/logout').set('Cookie', cookie);

      expectApiError(me, 401, 'NOT_SIGNED_IN');
      expect(logout.status).toBe(204);
    });

    it('leaves no half-written items behind', async () => {
      const users = await allItems(api, 'users');
      const claims = await allItems(api, 'userEmails');

      const claimed = new Set(claims.map((claim) => claim.username));
      expect(users.every((user) => claimed.has(user.username))).toBe(true);
      expect(claims).toHaveLength(users.length);
    });
  });
});

describe('a page read with a trailing slash', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await createTestApp();
  });
  afterAll(() => api.close());

  it('is sent, 308, to the path without it, query kept, by a relative Location', async () => {
    const response = await request(api.http).get('/activate/?u=ada&t=abc%20d');

    expect(response.status).toBe(308);
    expect(response.headers.location).toBe('../activate?u=ada&t=abc%20d');
    // Where a browser goes from there, under a path prefix too.
    expect(new URL(response.headers.location, 'https://x.example/prod/activate/').href).toBe(
      'https://x.example/prod/activate?u=ada&t=abc%20d',
    );
  });

  it('is not redirected for a POST, nor for the root', async () => {
    expect((await request(api.http).post('/activate/').send({})).status).not.toBe(308);
    expect((await request(api.http).get('/')).status).not.toBe(308);
  });
});

describe('no-store answers and revalidation', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await createTestApp();
  });
  afterAll(() => api.close());

  it.each(['/health', '/password-reset', '/activate?username=ada&token=x'])(
    'GET %s carries no ETag, so no If-None-Match can get a 304 of a no-store answer',
    async (path) => {
      const first = await request(api.http).get(path);
      // Any tag: without an ETag of the answer, none can match.
      const again = await request(api.http).get(path).set('If-None-Match', 'W/"5-abc", "x"');

      expect(first.headers['cache-control']).toBe('no-store');
      expect(first.headers.etag).toBeUndefined();
      expect(again.status).toBe(first.status);
    },
  );
});
