/**
 * GET /health: 200 while DynamoDB answers for the user table, 503 when it cannot be
 * reached, never cached.
 */
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { createApp } from '../../src/app.setup';
import { freePort as closedPort } from '../support/ports';
import { createTestApp, testConfig, type TestApp } from '../support/test-app';

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
      app = await createApp(
        testConfig({ DYNAMODB_ENDPOINT: `http://127.0.0.1:${await closedPort()}` }),
      );
      await app.init();
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
