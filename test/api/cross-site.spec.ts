/**
 * CSRF: a request that changes something, sent by a browser from another site's page, is
 * refused with 403 CROSS_SITE_REQUEST before any route acts on it (SameOriginGuard,
 * docs/adr/0012-csrf-by-fetch-metadata.md). Driven by the OpenAPI document: every
 * operation that documents the 403 gets a cross-site request, as JSON and, where it
 * answers pages, as a form.
 */
import type { OpenAPIObject } from '@nestjs/swagger';
import request from 'supertest';
import { buildOpenApiDocument } from '../../src/platform/openapi/openapi-document';
import { CROSS_SITE_REQUEST } from '../../src/platform/same-origin.guard';
import { documenting } from '../support/documented-operations';
import { createTestApp, type TestApp } from '../support/test-app';
import { activatedUser, newRegistration, SESSION_COOKIE, setCookie, userItem } from './api-helpers';

/** `[operation, path, media types]` of every operation documenting the cross-site 403. */
const crossSiteOperations = (document: OpenAPIObject): [string, string, readonly string[]][] =>
  documenting(document, '403')
    .filter(({ codes }) => codes.includes(CROSS_SITE_REQUEST))
    .map(({ operation, path, mediaTypes }) => [operation, path, mediaTypes]);

describe('requests from another site', () => {
  let api: TestApp;
  let document: OpenAPIObject;

  beforeAll(async () => {
    api = await createTestApp();
    document = buildOpenApiDocument(api.app);
  });
  afterAll(() => api.close());

  it('documents the 403 on every operation that changes something, and on no other', () => {
    const operations = crossSiteOperations(document).map(([operation]) => operation);
    const unsafe = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((method) => ['post', 'put', 'patch', 'delete'].includes(method))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );

    expect(operations.sort()).toEqual(unsafe.sort());
    expect(operations.length).toBeGreaterThanOrEqual(9);
  });

  it('refuses each of them, as JSON, and with a page to a form where it answers pages', async () => {
    const answers: string[] = [];
    const expected: string[] = [];
    for (const [operation, path, mediaTypes] of crossSiteOperations(document)) {
      for (const type of mediaTypes) {
        const call = request(api.http).post(path).set('Sec-Fetch-Site', 'cross-site');
        const response = await (type === 'text/html'
          ? call.type('form').send('')
          : call.type('json').send({}));
        const said =
          type === 'text/html'
            ? /<h1>([^<]*)<\/h1>/.exec(response.text)?.[1]
            : (response.body as { code?: string }).code;
        answers.push(`${operation} ${response.status} ${response.type} ${said}`);
        expected.push(
          `${operation} 403 ${type} ${type === 'text/html' ? 'This form came from another site' : CROSS_SITE_REQUEST}`,
        );
      }
    }

    expect(answers).toEqual(expected);
  });

  it.each([
    ['Sec-Fetch-Site: cross-site', { 'Sec-Fetch-Site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site (a sibling subdomain)', { 'Sec-Fetch-Site': 'same-site' }],
    ['a foreign Origin, no Sec-Fetch-Site', { Origin: 'https://evil.example' }],
    ['Origin: null (a sandboxed form)', { Origin: 'null' }],
    [
      'a foreign Origin on the same host name, other port',
      { Origin: 'http://127.0.0.1:1', Host: '127.0.0.1:2' },
    ],
    [
      'Sec-Fetch-Site: cross-site, whatever Origin says',
      { 'Sec-Fetch-Site': 'cross-site', Origin: 'http://cards.test' },
    ],
  ])('refuses %s, and registers nobody', async (_case, headers) => {
    const registration = newRegistration();
    const response = await request(api.http).post('/users').set(headers).send(registration);

    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ code: CROSS_SITE_REQUEST });
    expect(await userItem(api, registration.username)).toBeUndefined();
  });

  it.each([
    ['Sec-Fetch-Site: same-origin (its own pages)', { 'Sec-Fetch-Site': 'same-origin' }],
    ['Sec-Fetch-Site: none (typed by the person)', { 'Sec-Fetch-Site': 'none' }],
    ['the public origin, no Sec-Fetch-Site', { Origin: 'http://cards.test' }],
    [
      "the request's own host, no Sec-Fetch-Site",
      { Origin: 'http://api.internal:8080', Host: 'api.internal:8080' },
    ],
    ['neither header (not a browser: curl, a program)', {}],
  ])('takes %s', async (_case, headers) => {
    const registration = newRegistration();
    const response = await request(api.http).post('/users').set(headers).send(registration);

    expect(response.status).toBe(201);
    expect(await userItem(api, registration.username)).toBeDefined();
  });

  it('does not sign out a session from another site, nor change its password', async () => {
    const user = await activatedUser(api);
    const login = await request(api.http)
      .post('/login')
      .send({ username: user.username, password: user.password });
    const cookie = `${SESSION_COOKIE}=${setCookie(login, SESSION_COOKIE)!.value}`;
    const attacks = [
      request(api.http).post('/logout').type('form').send(''),
      request(api.http).post('/logout/all').type('form').send(''),
      request(api.http)
        .post('/users/me/password')
        .type('form')
        .send({ currentPassword: user.password, newPassword: 'chosen by the attacker' }),
    ];
    for (const attack of attacks) {
      const response = await attack.set('Cookie', cookie).set('Sec-Fetch-Site', 'cross-site');
      expect(response.status).toBe(403);
      expect(response.headers['set-cookie']).toBeUndefined();
    }

    const me = await request(api.http).get('/users/me').set('Cookie', cookie);
    expect(me.status).toBe(200);
    const again = await request(api.http)
      .post('/login')
      .send({ username: user.username, password: user.password });
    expect(again.status).toBe(200);
  });

  it('lets GET through from anywhere: it changes nothing', async () => {
    const response = await request(api.http).get('/').set('Sec-Fetch-Site', 'cross-site');

    expect(response.status).toBe(200);
  });
});
