/**
 * The answers the OpenAPI document gives every route, or every route that reads or writes,
 * and that the tests of each route do not make: a body the API cannot read (400, 413, 415
 * before any route sees it), DynamoDB unreachable (503) and a table that is not there
 * (500, a failure the API did not expect). Driven by the document: each operation that
 * documents such an answer gets the request below and must answer as documented (the
 * contract check of every answer, test/support/openapi-contract.ts, checks the rest), so
 * a new route is tested here as soon as it documents them.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { OpenAPIObject } from '@nestjs/swagger';
import request from 'supertest';
import { buildOpenApiDocument } from '../../src/platform/openapi/openapi-document';
import { userTableDefinitions } from '../../src/users/persistence/user-tables';
import { ensureTables } from '../../src/workers/ensure-tables';
import { type Documented, documenting } from '../support/documented-operations';
import { freePort as closedPort } from '../support/ports';
import {
  checkedApp,
  createTestApp,
  type TestApp,
  TestTables,
  testConfig,
} from '../support/test-app';
import { activatedUser, newRegistration } from './api-helpers';

/** A session cookie of the right shape, which a lookup must read DynamoDB for. */
const COOKIE = `card_store_session=ada.${randomBytes(32).toString('base64url')}`;
const TOKEN = randomBytes(32).toString('base64url');

/** A request that gets past validation to the store, as a program's JSON or a browser's form. */
type Sample = (http: Server, as: 'json' | 'form', cookie: string) => request.Test;

/** One for each operation that documents a failure of DynamoDB. */
const SAMPLES: Readonly<Record<string, Sample>> = {
  'POST /users': (http, as) => request(http).post('/users').type(as).send(newRegistration()),
  'GET /users/me': (http, _as, cookie) => request(http).get('/users/me').set('Cookie', cookie),
  'POST /users/me/password': (http, as, cookie) =>
    request(http)
      .post('/users/me/password')
      .set('Cookie', cookie)
      .type(as)
      .send({ currentPassword: 'correct horse battery staple', newPassword: 'a new passphrase' }),
  'POST /login': (http, as) =>
    request(http)
      .post('/login')
      .type(as)
      .send({ username: 'ada', password: 'correct horse battery' }),
  // A browser's sign-out form has no fields: an empty form body.
  'POST /logout': (http, as, cookie) =>
    request(http)
      .post('/logout')
      .set('Cookie', cookie)
      .type(as)
      .send(as === 'form' ? '' : {}),
  'POST /logout/all': (http, as, cookie) =>
    request(http)
      .post('/logout/all')
      .set('Cookie', cookie)
      .type(as)
      .send(as === 'form' ? '' : {}),
  'GET /account': (http, _as, cookie) => request(http).get('/account').set('Cookie', cookie),
  'POST /activate': (http, as) =>
    request(http)
      .post('/activate')
      .type(as)
      .send({ username: 'ada', token: TOKEN, password: 'correct horse battery' }),
  'POST /activation-mail': (http, as) =>
    request(http).post('/activation-mail').type(as).send({ email: 'ada@example.org' }),
  'POST /password-reset': (http, as) =>
    request(http).post('/password-reset').type(as).send({ email: 'ada@example.org' }),
  'POST /password-reset/new': (http, as) =>
    request(http)
      .post('/password-reset/new')
      .type(as)
      .send({ username: 'ada', token: TOKEN, password: 'a new passphrase' }),
  'GET /health': (http) => request(http).get('/health'),
};

/** Sends the operation's sample as JSON, or as a form when `mediaType` is a page. */
function sample(
  http: Server,
  documented: Documented,
  mediaType: string,
  cookie = COOKIE,
): request.Test {
  const send = SAMPLES[documented.operation];
  if (!send) throw new Error(`${documented.operation} has no sample request in this file`);
  return send(http, mediaType === 'text/html' ? 'form' : 'json', cookie);
}

describe('what the document says every route answers', () => {
  let api: TestApp;
  let document: OpenAPIObject;

  beforeAll(async () => {
    api = await createTestApp();
    document = buildOpenApiDocument(api.app);
  });
  afterAll(() => api?.close());

  describe('a body the API cannot read, on every route', () => {
    const unreadable: [string, number, string, (test: request.Test) => request.Test][] = [
      ['malformed JSON', 400, 'MALFORMED_JSON', (test) => test.type('json').send('{"a":')],
      [
        'over 16 kB',
        413,
        'PAYLOAD_TOO_LARGE',
        (test) => test.type('json').send(`"${'x'.repeat(17_000)}"`),
      ],
      [
        'JSON in a charset it does not read',
        415,
        'UNSUPPORTED_CHARSET',
        (test) => test.set('Content-Type', 'application/json; charset=latin-9').send('{}'),
      ],
      [
        'JSON in a content encoding it does not read',
        415,
        'UNSUPPORTED_ENCODING',
        (test) => test.type('json').set('Content-Encoding', 'compress').send('{}'),
      ],
    ];

    it.each(unreadable)('%s is a %d %s', async (_case, status, code, withBody) => {
      const operations = documenting(document, String(status));
      const answers = await Promise.all(
        operations.map(async ({ operation, method, path }) => {
          const response = await withBody(request(api.http)[method as 'get' | 'post'](path));
          return [operation, response.status, (response.body as { code?: string }).code];
        }),
      );

      expect(operations.length).toBeGreaterThanOrEqual(17);
      expect(answers).toEqual(operations.map(({ operation }) => [operation, status, code]));
    });
  });

  it('a body of a media type the route does not take is a 415 UNSUPPORTED_MEDIA_TYPE, wherever documented', async () => {
    const operations = documenting(document, '415').filter(({ codes }) =>
      codes.includes('UNSUPPORTED_MEDIA_TYPE'),
    );
    const answers = await Promise.all(
      operations.map(async ({ operation, path }) => {
        const response = await request(api.http).post(path).type('text/plain').send('hello');
        return [operation, response.status, (response.body as { code?: string }).code];
      }),
    );

    expect(operations.length).toBeGreaterThanOrEqual(7);
    expect(answers).toEqual(
      operations.map(({ operation }) => [operation, 415, 'UNSUPPORTED_MEDIA_TYPE']),
    );
  });

  describe('with DynamoDB unreachable', () => {
    let down: NestExpressApplication;

    beforeAll(async () => {
      down = await checkedApp(
        testConfig({ DYNAMODB_ENDPOINT: `http://127.0.0.1:${await closedPort()}` }),
      );
    });
    afterAll(() => down?.close());

    it('every route that documents a 503 answers one, as JSON and, to a browser, as a page', async () => {
      const answers: string[] = [];
      for (const documented of documenting(document, '503')) {
        for (const mediaType of documented.mediaTypes) {
          const response = await sample(down.getHttpServer() as Server, documented, mediaType);
          answers.push(`${documented.operation} ${response.status} ${response.type}`);
        }
      }

      expect(answers).toEqual(
        documenting(document, '503').flatMap((documented) =>
          documented.mediaTypes.map((type) => `${documented.operation} 503 ${type}`),
        ),
      );
      expect(answers.length).toBeGreaterThanOrEqual(15);
    });
  });

  describe('without the rate limits table', () => {
    let broken: NestExpressApplication;
    let signedIn: string;

    beforeAll(async () => {
      // A session from the usual app, for the routes that check it before the limits.
      const user = await activatedUser(api);
      const login = await request(api.http)
        .post('/login')
        .send({ username: user.username, password: user.password });
      signedIn = login.headers['set-cookie']![0]!.split(';')[0]!;
      // The other tables, and a rate limits table of a name no test creates.
      const { rateLimits } = testConfig().dynamodb.tables;
      broken = await checkedApp({
        ...api.config,
        dynamodb: {
          ...api.config.dynamodb,
          tables: { ...api.config.dynamodb.tables, rateLimits },
        },
      });
    });
    afterAll(() => broken?.close());

    it('every rate-limited route refuses to go on uncounted: 503 RATE_LIMITER_UNAVAILABLE', async () => {
      const limited = documenting(document, '503').filter(({ codes }) =>
        codes.includes('RATE_LIMITER_UNAVAILABLE'),
      );
      const answers: string[] = [];
      for (const documented of limited) {
        const http = broken.getHttpServer() as Server;
        const response = await sample(http, documented, 'json', signedIn);
        answers.push(
          `${documented.operation} ${response.status} ${(response.body as { code?: string }).code}`,
        );
      }

      expect(limited.length).toBeGreaterThanOrEqual(7);
      expect(answers).toEqual(
        limited.map(({ operation }) => `${operation} 503 RATE_LIMITER_UNAVAILABLE`),
      );
    });
  });

  describe('with a table missing (only the rate limits have theirs)', () => {
    let tables: TestTables;
    let broken: NestExpressApplication;

    beforeAll(async () => {
      tables = new TestTables(testConfig());
      const { rateLimits } = tables.config.dynamodb.tables;
      await ensureTables(
        tables.client,
        userTableDefinitions(tables.config.dynamodb.tables).filter(
          (definition) => definition.create.TableName === rateLimits,
        ),
      );
      broken = await checkedApp(tables.config);
    });
    afterAll(async () => {
      await broken?.close();
      await tables?.drop();
    });

    it('every route that documents a 500 answers 500 INTERNAL_ERROR, revealing nothing', async () => {
      const answers: string[] = [];
      for (const documented of documenting(document, '500')) {
        for (const mediaType of documented.mediaTypes) {
          const response = await sample(broken.getHttpServer() as Server, documented, mediaType);
          answers.push(`${documented.operation} ${response.status} ${response.type}`);
          expect(response.text).not.toMatch(/ResourceNotFound|Requested resource|\bat \S+ \(/);
        }
      }

      expect(answers).toEqual(
        documenting(document, '500').flatMap((documented) =>
          documented.mediaTypes.map((type) => `${documented.operation} 500 ${type}`),
        ),
      );
    });
  });

  it('has a sample request for each route that documents a failure of DynamoDB, and no other', () => {
    const failing = new Set(
      [...documenting(document, '500'), ...documenting(document, '503')].map(
        ({ operation }) => operation,
      ),
    );

    expect([...failing].sort()).toEqual(Object.keys(SAMPLES).sort());
  });
});
