/**
 * The API as a Lambda (src/lambda-handler.ts, src/lambda.ts): API Gateway HTTP API events
 * (payload format 2.0) in, v2 results out, over this run's DynamoDB Local. The events are
 * shaped as API Gateway sends them; the handler is the one Lambda runs, with only its
 * DynamoDB endpoint swapped for the local one.
 */
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { normaliseUsername } from '../../src/activation';
import {
  activateDirectly,
  claimTokenDirectly,
} from '../../src/activation/testing/activate-directly';
import { createApp } from '../../src/app.setup';
import type { AppConfig } from '../../src/config/app-config';
import {
  type ApiHandler,
  type ApiHandlerOverrides,
  type ApiResult,
  createApiHandler,
} from '../../src/lambda-handler';
import { PAGE_CONTENT_SECURITY_POLICY } from '../../src/users/pages/page';
import { lambdaContext } from '../../src/workers/lambda-context';
import { coldStart } from '../support/cold-start';
import { checkAnswers } from '../support/openapi-contract';
import {
  HTTP_API_URL,
  type HttpApiRequest as Request,
  httpApiEvent,
  jsonPost,
} from '../support/http-api-event';
import { testConfig, testEndpoint, TestTables } from '../support/test-app';
import { newRegistration } from './api-helpers';

const PUBLIC_BASE_URL = HTTP_API_URL;
const SESSION_COOKIE = '__Host-card_store_session';

/** The API function's environment as the stack sets it, plus what Lambda sets. */
function lambdaEnv(tables: TestTables): NodeJS.ProcessEnv {
  const { users, userEmails, sessions, rateLimits } = tables.config.dynamodb.tables;
  return {
    CARD_STORE_MODE: 'aws',
    AWS_REGION: 'us-east-1',
    USER_TABLE_NAME: users,
    USER_EMAIL_TABLE_NAME: userEmails,
    SESSION_TABLE_NAME: sessions,
    RATE_LIMIT_TABLE_NAME: rateLimits,
    PUBLIC_BASE_URL,
    LOG_LEVEL: 'silent',
    NODE_OPTIONS: '--enable-source-maps',
  };
}

const CONTEXT = { functionName: 'ApiFunction', region: 'us-east-1', accountId: '123456789012' };

function invoke(handler: ApiHandler, request: Request): Promise<ApiResult> {
  return handler(httpApiEvent(request), lambdaContext({ ...CONTEXT, timeoutMs: 10_000 }));
}

const postJson = (handler: ApiHandler, path: string, body: unknown) =>
  invoke(handler, jsonPost(path, body));

function jsonOf(result: ApiResult): Record<string, unknown> {
  expect(result.headers?.['content-type']).toMatch(/^application\/json/);
  return JSON.parse(result.body ?? '') as Record<string, unknown>;
}

/** createApp, its answers checked against the OpenAPI contract (openapi-contract.ts). */
const checkedCreateApp = async (config: AppConfig) => checkAnswers(await createApp(config));

/** createApp, counted; `failures` first calls reject as a broken bootstrap would. */
function countingCreateApp(failures = 0) {
  const calls: AppConfig[] = [];
  const make = async (config: AppConfig): Promise<NestExpressApplication> => {
    calls.push(config);
    if (calls.length <= failures) throw new Error(`bootstrap ${calls.length} failed`);
    return checkedCreateApp(config);
  };
  return { calls, make };
}

describe('the API on Lambda (HTTP API payload 2.0)', () => {
  let tables: TestTables;
  let handler: ApiHandler;
  const overrides = (extra: ApiHandlerOverrides = {}): ApiHandlerOverrides => ({
    dynamodbEndpoint: testEndpoint(),
    createApp: checkedCreateApp,
    ...extra,
  });

  beforeAll(async () => {
    tables = await new TestTables(testConfig()).create();
    handler = createApiHandler(lambdaEnv(tables), overrides());
    await handler.ready();
  });

  afterAll(async () => {
    await handler?.close();
    await tables?.drop();
  });

  it('registers with POST /users: 201, the public user as JSON, the user in the table', async () => {
    const registration = newRegistration();

    const result = await postJson(handler, '/users', registration);

    expect(result.statusCode).toBe(201);
    expect(jsonOf(result)).toEqual({
      username: registration.username,
      email: registration.email,
      name: registration.name,
      activationStatus: 'NONE',
    });
    expect(await tables.users.findByUsername(registration.username)).toMatchObject({
      activationUrlBase: `${PUBLIC_BASE_URL}/activate`,
    });
  });

  it('serves the OpenAPI document (API_DOCS is json in aws mode by default), not Swagger UI', async () => {
    const document = await invoke(handler, { method: 'GET', path: '/openapi.json' });
    const docs = await invoke(handler, { method: 'GET', path: '/docs' });

    expect(document.statusCode).toBe(200);
    expect(document.headers?.['cache-control']).toBe('no-cache');
    expect(jsonOf(document)).toMatchObject({
      openapi: '3.1.0',
      servers: [{ url: '/' }],
      components: {
        securitySchemes: { session: { in: 'cookie', name: SESSION_COOKIE } },
      },
    });
    expect(docs.statusCode).toBe(404);
  });

  it('answers an invalid body with 400 VALIDATION_FAILED and messages per field', async () => {
    const result = await postJson(handler, '/users', {
      username: 'Al',
      email: 'nope',
      name: 'Ann',
      password: 'correct horse battery',
    });

    const body = jsonOf(result);
    expect(result.statusCode).toBe(400);
    expect(body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    expect(body.requestId).toBe(result.headers?.['x-request-id']);
    const errors = body.errors as { field: string; messages: string[] }[];
    expect(errors.map((error) => error.field).sort()).toEqual(['email', 'username']);
    expect(errors.find((error) => error.field === 'username')?.messages).toEqual([
      'username must be 3 to 32 characters long',
    ]);
  });

  it('reads a base64-encoded body (isBase64Encoded: true)', async () => {
    const registration = newRegistration();

    const result = await invoke(handler, {
      method: 'POST',
      path: '/users',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify(registration)).toString('base64'),
      isBase64Encoded: true,
    });

    expect(result.statusCode).toBe(201);
    expect(jsonOf(result)).toMatchObject({ username: registration.username });
  });

  it('serves the activation link: an HTML page with its own CSP, activated by the posted form', async () => {
    // Arrange
    const registration = newRegistration();
    expect((await postJson(handler, '/users', registration)).statusCode).toBe(201);
    const now = new Date();
    const { token } = await claimTokenDirectly(tables.users, registration.username, {
      now,
      tokenExpiresAt: new Date(now.getTime() + 3600_000),
      leaseExpiresAt: now,
    });
    const query = new URLSearchParams({ username: registration.username, token }).toString();

    // Act
    const page = await invoke(handler, { method: 'GET', path: '/activate', query });
    // A browser's form post; HTTP API hands a form body over base64-encoded.
    const posted = await invoke(handler, {
      method: 'POST',
      path: '/activate',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from(
        new URLSearchParams({
          username: registration.username,
          token,
          password: registration.password,
        }).toString(),
      ).toString('base64'),
      isBase64Encoded: true,
    });

    // Assert
    expect(page.statusCode).toBe(200);
    expect(page.isBase64Encoded).toBe(false);
    expect(page.headers?.['content-type']).toMatch(/^text\/html/);
    expect(page.headers?.['content-security-policy']).toBe(PAGE_CONTENT_SECURITY_POLICY);
    expect(page.headers?.['cache-control']).toBe('no-store');
    expect(page.body).toContain('<button type="submit">Activate my account</button>');
    expect(posted.statusCode).toBe(200);
    expect(posted.headers?.['content-type']).toMatch(/^text\/html/);
    // Signed in: the session cookie comes back through `cookies`.
    expect(posted.cookies?.[0]).toMatch(/^__Host-card_store_session=/);
    expect(await tables.users.findByUsername(registration.username)).toMatchObject({
      activationStatus: 'DONE',
    });
  });

  it('refuses sign-in before activation, then sets the session cookie through `cookies`', async () => {
    // Arrange
    const registration = newRegistration();
    expect((await postJson(handler, '/users', registration)).statusCode).toBe(201);
    const credentials = { username: registration.username, password: registration.password };

    // Act
    const refused = await postJson(handler, '/login', credentials);
    await activateDirectly(tables.users, normaliseUsername(registration.username));
    const signedIn = await postJson(handler, '/login', credentials);
    const session = signedIn.cookies?.[0]?.split(';')[0] ?? '';
    const me = await invoke(handler, { method: 'GET', path: '/users/me', cookies: [session] });

    // Assert
    expect(refused.statusCode).toBe(403);
    expect(jsonOf(refused)).toMatchObject({ code: 'ACCOUNT_NOT_ACTIVATED' });
    expect(refused.cookies).toBeUndefined();
    expect(signedIn.statusCode).toBe(200);
    expect(signedIn.cookies).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${SESSION_COOKIE}=[a-z0-9._-]+\\.[A-Za-z0-9_-]{43}; Path=/; Expires=.+; HttpOnly; Secure; SameSite=Lax$`,
        ),
      ),
    ]);
    expect(signedIn.headers).not.toHaveProperty('set-cookie');
    expect(me.statusCode).toBe(200);
    expect(jsonOf(me)).toMatchObject({ username: registration.username, activationStatus: 'DONE' });
  });

  it.each<[string, Request, number, string]>([
    [
      'malformed JSON',
      {
        method: 'POST',
        path: '/users',
        headers: { 'content-type': 'application/json' },
        body: '{"username":',
      },
      400,
      'MALFORMED_JSON',
    ],
    ['a route Nest does not know', { method: 'GET', path: '/nowhere' }, 404, 'NOT_FOUND'],
  ])('answers %s in the API error shape', async (_case, request, status, code) => {
    const result = await invoke(handler, request);

    expect(result.statusCode).toBe(status);
    expect(jsonOf(result)).toMatchObject({ statusCode: status, code });
  });

  it('sends the API-wide security headers of createApp', async () => {
    const result = await invoke(handler, { method: 'GET', path: '/health' });

    expect(result.statusCode).toBe(200);
    expect(jsonOf(result)).toEqual({ status: 'ok', checks: { dynamodb: 'up' } });
    expect(result.headers?.['x-content-type-options']).toBe('nosniff');
    expect(result.headers?.['strict-transport-security']).toMatch(/max-age=/);
    expect(result.headers).not.toHaveProperty('x-powered-by');
  });

  describe('bootstrap', () => {
    let other: ApiHandler | undefined;

    afterEach(async () => {
      await other?.close();
      other = undefined;
    });

    it('starts when the handler is built and happens once for many invocations', async () => {
      const createAppCalls = countingCreateApp();

      other = createApiHandler(lambdaEnv(tables), overrides({ createApp: createAppCalls.make }));
      const startedBeforeAnyEvent = createAppCalls.calls.length;
      const results = [];
      for (let i = 0; i < 3; i++) {
        results.push(await invoke(other, { method: 'GET', path: '/health' }));
      }

      expect(startedBeforeAnyEvent).toBe(1);
      expect(results.map((result) => result.statusCode)).toEqual([200, 200, 200]);
      expect(createAppCalls.calls).toHaveLength(1);
    });

    it('fails the invocation that waits on a failed bootstrap and tries again on the next one', async () => {
      const createAppCalls = countingCreateApp(1);
      other = createApiHandler(lambdaEnv(tables), overrides({ createApp: createAppCalls.make }));

      const first = invoke(other, { method: 'GET', path: '/health' });
      await expect(first).rejects.toThrow('bootstrap 1 failed');
      const second = await invoke(other, { method: 'GET', path: '/health' });
      const third = await invoke(other, { method: 'GET', path: '/health' });

      expect([second.statusCode, third.statusCode]).toEqual([200, 200]);
      expect(createAppCalls.calls).toHaveLength(2);
    });

    it('retries a bootstrap that failed before the first event within that event', async () => {
      const createAppCalls = countingCreateApp(1);
      other = createApiHandler(lambdaEnv(tables), overrides({ createApp: createAppCalls.make }));
      await expect(other.ready()).rejects.toThrow('bootstrap 1 failed');

      const result = await invoke(other, { method: 'GET', path: '/health' });

      expect(result.statusCode).toBe(200);
      expect(createAppCalls.calls).toHaveLength(2);
    });
  });
});

describe("the API on Lambda: rate limits by API Gateway's sourceIp", () => {
  let tables: TestTables;
  let handler: ApiHandler;

  beforeAll(async () => {
    tables = await new TestTables(testConfig()).create();
    handler = createApiHandler(
      { ...lambdaEnv(tables), RATE_LIMIT_REGISTER_PER_ADDRESS: '2/1h' },
      { dynamodbEndpoint: testEndpoint(), createApp: checkedCreateApp },
    );
    await handler.ready();
  });

  afterAll(async () => {
    await handler?.close();
    await tables?.drop();
  });

  it('counts requests by sourceIp, whatever X-Forwarded-For the client sends', async () => {
    const from = (sourceIp: string, forwardedFor: string) =>
      invoke(handler, {
        ...jsonPost('/users', {}),
        sourceIp,
        headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
      });

    const statuses = [
      (await from('198.51.100.1', '192.0.2.1')).statusCode,
      (await from('198.51.100.1', '192.0.2.2')).statusCode,
      (await from('198.51.100.1', '192.0.2.3, 198.51.100.9')).statusCode,
    ];
    const otherClient = await from('198.51.100.2', '192.0.2.1');

    expect(statuses).toEqual([400, 400, 429]);
    expect(otherClient.statusCode).toBe(400);
  });
});

describe('the API Lambda cold start', () => {
  const GOOD_ENV = {
    CARD_STORE_MODE: 'aws',
    AWS_REGION: 'eu-west-1',
    USER_TABLE_NAME: 'CardStore-User',
    USER_EMAIL_TABLE_NAME: 'CardStore-UserEmail',
    SESSION_TABLE_NAME: 'CardStore-UserSession',
    RATE_LIMIT_TABLE_NAME: 'CardStore-RateLimit',
    PUBLIC_BASE_URL,
    LOG_LEVEL: 'silent',
  };

  function coldStartError(env: NodeJS.ProcessEnv): { name: string; message: string } {
    try {
      const handler = createApiHandler(env);
      void handler.close();
    } catch (error) {
      const { name, message } = error as Error;
      return { name, message };
    }
    throw new Error(`expected the cold start to fail with ${JSON.stringify(env)}`);
  }

  it.each([
    ['not set', undefined, '""'],
    ['local', 'local', '"local"'],
  ])('fails at once, naming CARD_STORE_MODE, when it is %s', (_case, mode, got) => {
    const error = coldStartError({ ...GOOD_ENV, CARD_STORE_MODE: mode });

    expect(error.name).toBe('ConfigError');
    expect(error.message).toContain(
      `CARD_STORE_MODE must be "aws" on Lambda, where no local stand-in runs (got ${got})`,
    );
  });

  it.each([
    ['not set', undefined],
    ['plain http', 'http://abc123.execute-api.eu-west-1.amazonaws.com'],
  ])('fails at once when PUBLIC_BASE_URL is %s', (_case, url) => {
    const error = coldStartError({ ...GOOD_ENV, PUBLIC_BASE_URL: url });

    expect(error.name).toBe('ConfigError');
    expect(error.message).toContain("PUBLIC_BASE_URL must be the API's https URL on Lambda");
  });

  it('fails at once with API_DOCS=ui: the bundle has no Swagger UI, only the document', async () => {
    const error = coldStartError({ ...GOOD_ENV, API_DOCS: 'ui' });

    expect(error.name).toBe('ConfigError');
    expect(error.message).toContain('API_DOCS=ui is not available on Lambda');
    for (const docs of ['json', 'off']) {
      await createApiHandler({ ...GOOD_ENV, API_DOCS: docs }).close();
    }
  });

  it('cannot be pointed at a local DynamoDB through its environment', () => {
    const error = coldStartError({ ...GOOD_ENV, DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' });

    expect(error.message).toContain('DYNAMODB_ENDPOINT is for local mode only');
  });

  describe('of the entry module src/lambda.ts', () => {
    const ENTRY = join(__dirname, '..', '..', 'src', 'lambda.ts');

    it('exports `handler` built from process.env and `ready`, which resolves once Nest is up', async () => {
      const entry = await coldStart(ENTRY, GOOD_ENV);
      const handler = entry.handler as ApiHandler;
      try {
        await expect((entry.ready as () => Promise<void>)()).resolves.toBeUndefined();
        expect(typeof handler).toBe('function');
      } finally {
        await handler.close();
      }
    });

    it('fails to load with a ConfigError when CARD_STORE_MODE is missing', async () => {
      const { CARD_STORE_MODE: _mode, ...env } = GOOD_ENV;

      await expect(coldStart(ENTRY, env)).rejects.toMatchObject({
        name: 'ConfigError',
        message: expect.stringContaining('CARD_STORE_MODE must be "aws" on Lambda'),
      });
    });
  });
});
