/**
 * GET /health: 200 while the User table answers a read for the API's credentials, 503 when
 * it cannot be reached, never cached, and cheap: one read serves every request of a second.
 */
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { type ObservedAwsCall, observeAwsCalls } from '../../src/platform/aws/call-observers';
import { HEALTH_CHECK_REUSE_MS } from '../../src/health/health.controller';
import { freePort as closedPort } from '../support/ports';
import { checkedApp, createTestApp, testConfig, type TestApp } from '../support/test-app';

describe('GET /health', () => {
  describe('with DynamoDB up', () => {
    let api: TestApp;

    beforeAll(async () => {
      api = await createTestApp();
    });
    afterAll(() => api.close());

    it('answers 200 ok with dynamodb up, not to be cached', async () => {
      const response = await request(api.http).get('/health');

      expect(response.status).toBe(200);
      expect(response.body).toEqual({ status: 'ok', checks: { dynamodb: 'up' } });
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers['x-request-id']).toEqual(expect.any(String));
    });

    it('reads the User table once for a burst of checks, with the GetItem the API is granted', async () => {
      const calls: ObservedAwsCall[] = [];
      const stopObserving = observeAwsCalls((call) => calls.push(call));
      await new Promise((resolve) => setTimeout(resolve, HEALTH_CHECK_REUSE_MS));

      const responses = await Promise.all(
        Array.from({ length: 5 }, () => request(api.http).get('/health')),
      );
      stopObserving();

      expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
      expect(calls.map(({ principal, operation }) => ({ principal, operation }))).toEqual([
        { principal: 'api', operation: 'GetItem' },
      ]);
      expect(calls[0]?.input).toMatchObject({ TableName: api.config.dynamodb.tables.users });
    });

    it('needs no session', async () => {
      const response = await request(api.http)
        .get('/health')
        .set('Cookie', 'card_store_session=nonsense');

      expect(response.status).toBe(200);
    });
  });

  describe('with DynamoDB unreachable', () => {
    let app: NestExpressApplication;

    beforeAll(async () => {
      app = await checkedApp(
        testConfig({ DYNAMODB_ENDPOINT: `http://127.0.0.1:${await closedPort()}` }),
      );
    });
    afterAll(() => app.close());

    it('answers 503 unavailable with dynamodb down, within the check timeout', async () => {
      const started = Date.now();

      const response = await request(app.getHttpServer()).get('/health');

      expect(response.status).toBe(503);
      expect(response.body).toEqual({ status: 'unavailable', checks: { dynamodb: 'down' } });
      expect(response.headers['cache-control']).toBe('no-store');
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it('answers a registration with 503 DEPENDENCY_UNAVAILABLE and Retry-After, revealing nothing', async () => {
      const response = await request(app.getHttpServer()).post('/users').send({
        username: 'ada',
        email: 'ada@example.org',
        name: 'Ada',
        password: 'a long password',
      });

      expect(response.status).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
      expect(response.body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        code: 'DEPENDENCY_UNAVAILABLE',
        message: expect.any(String),
        requestId: response.headers['x-request-id'],
      });
      expect(response.text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|Error:|\bat \S+ \(/);
    });
  });
});
