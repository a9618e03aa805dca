import request from 'supertest';
import { createTestApp, type TestApp } from '../support/test-app';

describe('smoke', () => {
  let api: TestApp;
  beforeAll(async () => {
    api = await createTestApp();
  });
  afterAll(() => api.close());

  it('reports DynamoDB up on /health', async () => {
    const response = await request(api.http).get('/health');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok', checks: { dynamodb: 'up' } });
  });
});
