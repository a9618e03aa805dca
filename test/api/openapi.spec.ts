/**
 * The OpenAPI contract: what the API serves about itself (`GET /openapi.json`, Swagger UI
 * at `GET /docs`, as API_DOCS says), that every route it serves is in the document with
 * its answers declared, that the check every API test runs (test/support/openapi-contract.ts)
 * does refuse answers that break the document, and that `npm run openapi` writes the very
 * document the app serves.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Controller, Get, type INestApplication, Module, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { MetadataScanner, ModulesContainer, NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { OpenAPIObject, OperationObject, ResponseObject } from '@nestjs/swagger';
import request from 'supertest';
import { RegistrationService } from '../../src/activation';
import { AppModule } from '../../src/app.module';
import { createApp } from '../../src/app.setup';
import { loadConfig } from '../../src/config/app-config';
import {
  DOCS_CACHE_CONTROL,
  DOCS_CONTENT_SECURITY_POLICY,
} from '../../src/platform/openapi/api-docs.module';
import {
  API_VERSION,
  buildOpenApiDocument,
  OPENAPI_VERSION,
} from '../../src/platform/openapi/openapi-document';
import { PAGE_CONTENT_SECURITY_POLICY } from '../../src/users/pages/page';
import { takeViolations } from '../support/contract-log';
import { type ObservedAnswer, OpenApiContract } from '../support/openapi-contract';
import { createTestApp, type TestApp } from '../support/test-app';
import { newRegistration } from './api-helpers';

const REPO_ROOT = join(__dirname, '..', '..');
const execFileAsync = promisify(execFile);

const pathsOf = (metadata: unknown): string[] =>
  ([metadata].flat() as (string | undefined)[]).map((path) => path ?? '');

/**
 * Every route of every controller of the app, `METHOD /path` in OpenAPI's path syntax:
 * what Nest maps (the app has no global prefix and no versioning).
 */
function servedRoutes(app: INestApplication): string[] {
  const scanner = new MetadataScanner();
  const routes: string[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const { metatype } of module.controllers.values()) {
      if (typeof metatype !== 'function') continue;
      const prototype = metatype.prototype as Record<string, unknown>;
      for (const name of scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name] as object;
        const paths = Reflect.getMetadata(PATH_METADATA, handler) as unknown;
        if (paths === undefined) continue;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
        for (const base of pathsOf(Reflect.getMetadata(PATH_METADATA, metatype))) {
          for (const path of pathsOf(paths)) {
            const full = `/${[base, path].join('/')}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
            routes.push(`${method} ${full.replace(/:(\w+)/g, '{$1}')}`);
          }
        }
      }
    }
  }
  return routes.sort();
}

function operationsOf(document: OpenAPIObject): Map<string, OperationObject> {
  const operations = new Map<string, OperationObject>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      operations.set(`${method.toUpperCase()} ${path}`, operation as OperationObject);
    }
  }
  return operations;
}

/**
 * What is missing for each route the app serves: in the document, with an operationId, a
 * summary and answers declared (`@ApiAnswers`: each response described, one of them a
 * success). @nestjs/swagger lists a route without them too, with an empty response.
 */
function undocumentedRoutes(app: INestApplication, document: OpenAPIObject): string[] {
  const operations = operationsOf(document);
  return servedRoutes(app).flatMap((route) => {
    const operation = operations.get(route);
    if (!operation) return [`${route}: not in the document`];
    const responses = Object.entries(operation.responses) as [string, ResponseObject][];
    const problems = [
      ...(operation.operationId ? [] : ['no operationId']),
      ...(operation.summary ? [] : ['no summary']),
      ...(responses.some(([status]) => status.startsWith('2')) ? [] : ['no success response']),
      ...responses
        .filter(([, response]) => !response.description)
        .map(([status]) => `response ${status} undescribed`),
    ];
    return problems.length > 0 ? [`${route}: ${problems.join(', ')}`] : [];
  });
}

describe('the OpenAPI document', () => {
  let api: TestApp;
  let document: OpenAPIObject;

  beforeAll(async () => {
    api = await createTestApp();
    document = buildOpenApiDocument(api.app);
  });
  afterAll(() => api?.close());

  describe('GET /openapi.json', () => {
    it('serves the document of the running app: OpenAPI 3.1, JSON, cacheable but revalidated', async () => {
      const response = await request(api.http).get('/openapi.json');

      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.headers['cache-control']).toBe(DOCS_CACHE_CONTROL);
      expect(response.headers.etag).toEqual(expect.any(String));
      expect(response.body).toEqual(JSON.parse(JSON.stringify(document)));
      expect(response.body).toMatchObject({
        openapi: OPENAPI_VERSION,
        info: { title: 'card-store' },
      });
      expect(OPENAPI_VERSION).toBe('3.1.0');
    });

    it('answers 304 to a client whose copy is current', async () => {
      const first = await request(api.http).get('/openapi.json');

      const again = await request(api.http)
        .get('/openapi.json')
        .set('If-None-Match', first.headers.etag!);

      expect(again.status).toBe(304);
      expect(again.text).toBe('');
    });

    it("carries package.json's version, and the session cookie as its security scheme", () => {
      const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
        version: string;
      };

      expect(document.info.version).toBe(version);
      expect(API_VERSION).toBe(version);
      expect(document.components?.securitySchemes).toEqual({
        session: expect.objectContaining({
          type: 'apiKey',
          in: 'cookie',
          name: 'card_store_session',
        }),
      });
      expect(document.servers).toEqual([
        expect.objectContaining({
          url: '/',
          description: expect.stringContaining('http://cards.test'),
        }),
      ]);
    });

    it('has the error shape as a component, and each error response its own codes', () => {
      const answers = operationsOf(document).get('POST /users')!.responses;
      const conflict = (answers['409'] as ResponseObject).content?.['application/json']?.schema;

      expect(document.components?.schemas?.ApiError).toMatchObject({
        required: ['statusCode', 'error', 'code', 'message', 'requestId'],
        additionalProperties: false,
      });
      expect(conflict).toEqual({
        allOf: [
          { $ref: '#/components/schemas/ApiError' },
          {
            type: 'object',
            properties: {
              statusCode: { type: 'integer', enum: [409] },
              code: { type: 'string', enum: ['USERNAME_TAKEN'] },
            },
          },
        ],
      });
    });
  });

  describe('GET /docs', () => {
    it('serves Swagger UI under a CSP of its own: scripts and styles of this origin only, nothing inline', async () => {
      const response = await request(api.http).get('/docs');

      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.headers['content-security-policy']).toBe(DOCS_CONTENT_SECURITY_POLICY);
      expect(DOCS_CONTENT_SECURITY_POLICY).not.toContain('unsafe');
      expect(response.text).not.toMatch(/<script>|<style|style=/);
      expect(response.text).toContain('<script src="docs/swagger-ui-bundle.js"></script>');
    });

    it.each([
      ['swagger-ui-bundle.js', /^text\/javascript/, 'SwaggerUIBundle'],
      ['swagger-ui.css', /^text\/css/, '.swagger-ui'],
      ['swagger-initializer.js', /^text\/javascript/, "url: 'openapi.json'"],
    ])('serves its file %s from this origin', async (name, type, content) => {
      const response = await request(api.http).get(`/docs/${name}`);

      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(type);
      expect(response.headers['cache-control']).toBe(DOCS_CACHE_CONTROL);
      expect(response.text).toContain(content);
      const again = await request(api.http)
        .get(`/docs/${name}`)
        .set('If-None-Match', response.headers.etag!);
      expect(again.status).toBe(304);
    });

    it.each(['index.html', 'swagger-ui-bundle.js.map', '..%2Fpackage.json', 'absolute-path.js'])(
      'serves no other file of swagger-ui-dist: %s is a 404',
      async (name) => {
        const response = await request(api.http).get(`/docs/${name}`);

        expect(response.status).toBe(404);
        expect(response.body).toMatchObject({ code: 'NOT_FOUND' });
      },
    );

    it("leaves every other route's CSP as it was", async () => {
      const page = await request(api.http).get('/password-reset');
      const json = await request(api.http).get('/health');

      expect(page.headers['content-security-policy']).toBe(PAGE_CONTENT_SECURITY_POLICY);
      expect(json.headers['content-security-policy']).toMatch(/^default-src 'self';/);
      expect(json.headers['cache-control']).toBe('no-store');
    });
  });

  describe.each([
    ['json', 200, 404],
    ['off', 404, 404],
  ])('with API_DOCS=%s', (docs, documentStatus, uiStatus) => {
    let other: TestApp;

    beforeAll(async () => {
      other = await createTestApp({ env: { API_DOCS: docs } });
    });
    afterAll(() => other?.close());

    it(`answers GET /openapi.json ${documentStatus} and GET /docs ${uiStatus}`, async () => {
      expect((await request(other.http).get('/openapi.json')).status).toBe(documentStatus);
      expect((await request(other.http).get('/docs')).status).toBe(uiStatus);
      expect((await request(other.http).get('/docs/swagger-ui.css')).status).toBe(uiStatus);
    });

    it('documents just the routes it serves', () => {
      expect(undocumentedRoutes(other.app, buildOpenApiDocument(other.app))).toEqual([]);
      expect([...operationsOf(buildOpenApiDocument(other.app)).keys()].sort()).toEqual(
        servedRoutes(other.app),
      );
    });
  });

  describe('covers every route', () => {
    it('has each route the app serves, with its answers declared, and none it does not serve', () => {
      const routes = servedRoutes(api.app);

      expect(undocumentedRoutes(api.app, document)).toEqual([]);
      expect([...operationsOf(document).keys()].sort()).toEqual(routes);
      expect(routes).toEqual(
        expect.arrayContaining([
          'POST /users',
          'POST /login',
          'POST /logout',
          'POST /logout/all',
          'GET /users/me',
          'POST /users/me/password',
          'GET /activate',
          'POST /activate',
          'POST /activation-mail',
          'GET /password-reset',
          'POST /password-reset',
          'GET /password-reset/new',
          'POST /password-reset/new',
          'GET /health',
          'GET /openapi.json',
          'GET /docs',
          'GET /docs/{asset}',
        ]),
      );
    });

    it('finds a route that was added without declaring its answers', async () => {
      @Controller('undocumented')
      class UndocumentedController {
        @Get()
        hello(): object {
          return {};
        }
      }
      @Module({ imports: [AppModule.forRoot(api.config)], controllers: [UndocumentedController] })
      class WithUndocumentedRoute {}
      const app = await NestFactory.create<NestExpressApplication>(WithUndocumentedRoute, {
        logger: false,
        bodyParser: false,
      });
      try {
        await app.init();

        expect(undocumentedRoutes(app, buildOpenApiDocument(app))).toEqual([
          'GET /undocumented: no summary, response 200 undescribed',
        ]);
      } finally {
        await app.close();
      }
    });
  });

  describe('the contract check of every answer', () => {
    let contract: OpenApiContract;
    const SUCCESS_HEADERS = {
      'content-type': 'application/json; charset=utf-8',
      ratelimit: '"register-address";r=19;t=3600',
      'ratelimit-policy': '"register-address";q=20;w=3600',
    };
    /** A registration's answer, but for `overrides`; every answer has an X-Request-Id. */
    const answer = (overrides: Partial<ObservedAnswer> & { json?: unknown }): ObservedAnswer => {
      const { json, headers, ...rest } = overrides;
      return {
        method: 'POST',
        url: '/users',
        status: 201,
        headers: { 'x-request-id': 'r-1', ...(headers ?? SUCCESS_HEADERS) },
        body: Buffer.from(
          JSON.stringify(
            json ?? {
              username: 'ada',
              email: 'ada@example.org',
              name: 'Ada',
              activationStatus: 'NONE',
            },
          ),
        ),
        ...rest,
      };
    };
    const problemsOf = (observed: ObservedAnswer) => {
      const result = contract.check(observed);
      return result.checked ? result.problems : ['(not checked)'];
    };
    const error = (status: number, code: string, extra: object = {}) => ({
      statusCode: status,
      error: 'Conflict',
      code,
      message: 'x',
      requestId: 'r-1',
      ...extra,
    });

    beforeAll(() => {
      contract = new OpenApiContract(document);
    });

    it('passes an answer as documented', () => {
      expect(problemsOf(answer({}))).toEqual([]);
      expect(
        problemsOf(
          answer({
            status: 409,
            headers: { 'content-type': 'application/json' },
            json: error(409, 'USERNAME_TAKEN'),
          }),
        ),
      ).toEqual([]);
    });

    it.each<[string, Partial<ObservedAnswer> & { json?: unknown }, string]>([
      [
        'an undocumented status',
        { status: 418 },
        'status 418 is not documented (documented: 201, 400, 403, 409, 413, 415, 429, 500, 503)',
      ],
      [
        'an undocumented media type',
        { headers: { 'content-type': 'text/plain' } },
        'media type text/plain is not documented for 201 (documented: application/json, text/html)',
      ],
      [
        'a missing field',
        { json: { username: 'ada', email: 'a@b.cd', name: 'Ada' } },
        "body: (body) must have required property 'activationStatus'",
      ],
      [
        'an extra field',
        {
          json: {
            username: 'ada',
            email: 'a@b.cd',
            name: 'Ada',
            activationStatus: 'NONE',
            password: 'x',
          },
        },
        'body: (body) must NOT have additional properties',
      ],
      [
        'a value out of its enum',
        { json: { username: 'ada', email: 'a@b.cd', name: 'Ada', activationStatus: 'ACTIVE' } },
        'body: /activationStatus must be equal to one of the allowed values',
      ],
      [
        'a username that is no string',
        { json: { username: 42, email: 'a@b.cd', name: 'Ada', activationStatus: 'NONE' } },
        'body: /username must be string',
      ],
      [
        'an error code the response does not list',
        { status: 409, json: error(409, 'EMAIL_TAKEN') },
        'body: /code must be equal to one of the allowed values',
      ],
      [
        'an error without its requestId',
        {
          status: 409,
          json: { statusCode: 409, error: 'Conflict', code: 'USERNAME_TAKEN', message: 'x' },
        },
        "body: (body) must have required property 'requestId'",
      ],
      ['a body that is not JSON', { body: Buffer.from('{') }, 'has a body that is not JSON'],
      [
        'no body',
        { body: Buffer.alloc(0) },
        'has no body; documented: application/json, text/html',
      ],
      [
        'a missing required header',
        { headers: { 'content-type': 'application/json' } },
        'header RateLimit is missing',
      ],
      [
        'an answer without its request id',
        { headers: { ...SUCCESS_HEADERS, 'x-request-id': undefined } },
        'header X-Request-Id is missing',
      ],
    ])('refuses %s', (_case, overrides, problem) => {
      expect(problemsOf(answer(overrides))).toContain(problem);
    });

    it('refuses a header that breaks its schema, and a 429 without Retry-After', () => {
      const limited = answer({
        status: 429,
        headers: {
          'content-type': 'application/json',
          'retry-after': 'soon',
          ratelimit: 'lots',
          'ratelimit-policy': '"register-address";q=20;w=3600',
        },
        json: error(429, 'RATE_LIMITED', { error: 'Too Many Requests' }),
      });
      const { 'retry-after': _retryAfter, ...withoutRetryAfter } = limited.headers;

      expect(problemsOf(limited)).toEqual([
        'header Retry-After: "soon" must be integer',
        `header RateLimit: "lots" must match pattern "^"[a-z-]+";r=\\d+;t=\\d+(, *"[a-z-]+";r=\\d+;t=\\d+)*$"`,
      ]);
      expect(problemsOf({ ...limited, headers: withoutRetryAfter })).toContain(
        'header Retry-After is missing',
      );
    });

    it('matches path templates, and leaves what the document does not have unchecked', () => {
      const asset = (url: string, status: number) =>
        contract.check({
          ...answer({}),
          method: 'GET',
          url,
          status,
          body: Buffer.alloc(0),
          headers: { 'x-request-id': 'r-1' },
        });

      expect(asset('/docs/swagger-ui.css', 304)).toEqual({
        checked: true,
        operation: 'GET /docs/{asset}',
        response: '304',
        problems: [],
      });
      expect(asset('/docs?x=1', 200)).toMatchObject({
        operation: 'GET /docs',
        problems: ['header ETag is missing', 'has no body; documented: text/html'],
      });
      expect(asset('/docs/a/b', 200)).toEqual({ checked: false });
      expect(contract.check({ ...answer({}), method: 'DELETE' })).toEqual({ checked: false });
    });

    it('fails the test of a real route whose answer drifts from the document', async () => {
      const registration = api.app.get(RegistrationService);
      const register = registration.register.bind(registration);
      const spy = jest
        .spyOn(registration, 'register')
        .mockImplementation(async (input) => ({ ...(await register(input)), nickname: 'Ada' }));
      try {
        const response = await request(api.http).post('/users').send(newRegistration());

        expect(response.status).toBe(201);
        expect(takeViolations()).toEqual([
          'POST /users → 201 application/json: body: (body) must NOT have additional properties',
        ]);
      } finally {
        spy.mockRestore();
      }
    });
  });

  it('is what `npm run openapi` writes, without a build', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'card-store-openapi-'));
    const app = await createApp(loadConfig({ LOG_LEVEL: 'silent' }));
    try {
      const file = join(dir, 'openapi.json');
      await execFileAsync(
        process.execPath,
        ['--import', './scripts/swc-loader.mjs', 'scripts/openapi.ts', file],
        { cwd: REPO_ROOT, timeout: 20_000 },
      );

      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(
        JSON.parse(JSON.stringify(buildOpenApiDocument(app))),
      );
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
