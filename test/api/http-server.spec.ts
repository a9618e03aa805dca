/**
 * What reaches the API below Express: requests Node's HTTP parser refuses get the API's
 * error shape, a client that sends slowly is cut off, and no answer may be cached.
 * Raw sockets, since supertest only sends well-formed requests.
 */
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { hardenHttpServer, SERVER_TIMEOUTS } from '../../src/platform/http-server';
import { createTestApp, type TestApp } from '../support/test-app';
import { newRegistration } from './api-helpers';

/** Sends `chunks` (one every `everyMs`) and resolves with all the server answered. */
function rawExchange(server: Server, chunks: readonly string[], everyMs = 0) {
  if (!server.listening) server.listen(0, '127.0.0.1');
  const started = Date.now();
  return new Promise<{ text: string; ms: number }>((resolve, reject) => {
    const port = () => (server.address() as AddressInfo).port;
    const go = () => {
      const socket = connect(port(), '127.0.0.1');
      let text = '';
      let sent = 0;
      const timer = setInterval(() => {
        if (sent < chunks.length && socket.writable) socket.write(chunks[sent++]!);
      }, everyMs);
      socket.on('data', (data) => (text += data.toString()));
      socket.on('error', reject);
      socket.on('close', () => {
        clearInterval(timer);
        resolve({ text, ms: Date.now() - started });
      });
    };
    if (server.listening) go();
    else server.once('listening', go);
  });
}

const parse = (text: string) => {
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const [statusLine, ...headers] = head.split('\r\n');
  return {
    status: Number(statusLine?.split(' ')[1]),
    headers: Object.fromEntries(
      headers.map((line) => [
        line.slice(0, line.indexOf(':')).toLowerCase(),
        line.slice(line.indexOf(':') + 1).trim(),
      ]),
    ),
    body: JSON.parse(body) as Record<string, unknown>,
  };
};

describe('the HTTP server', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await createTestApp();
  });
  afterAll(async () => {
    api.http.close();
    await api.close();
  });

  it.each([
    ['a request line that is not HTTP', ['GARBAGE\r\n\r\n'], 400, 'MALFORMED_REQUEST'],
    [
      'a header without a colon',
      ['GET /health HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n'],
      400,
      'MALFORMED_REQUEST',
    ],
    [
      'headers larger than Node allows',
      [`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
      431,
      'HEADERS_TOO_LARGE',
    ],
  ])(
    'answers %s in the error shape, not with an empty body',
    async (_case, chunks, status, code) => {
      const { text } = await rawExchange(api.http, chunks);

      const answer = parse(text);
      expect(answer.status).toBe(status);
      expect(answer.headers['content-type']).toMatch(/^application\/json/);
      expect(answer.body).toEqual({
        statusCode: status,
        error: expect.any(String),
        code,
        message: expect.any(String),
        requestId: answer.headers['x-request-id'],
      });
    },
  );

  it('runs with the limits of SERVER_TIMEOUTS', () => {
    expect({
      headersTimeoutMs: api.http.headersTimeout,
      requestTimeoutMs: api.http.requestTimeout,
      keepAliveTimeoutMs: api.http.keepAliveTimeout,
    }).toEqual({
      headersTimeoutMs: SERVER_TIMEOUTS.headersTimeoutMs,
      requestTimeoutMs: SERVER_TIMEOUTS.requestTimeoutMs,
      keepAliveTimeoutMs: SERVER_TIMEOUTS.keepAliveTimeoutMs,
    });
    expect(SERVER_TIMEOUTS.headersTimeoutMs).toBeLessThanOrEqual(SERVER_TIMEOUTS.requestTimeoutMs);
  });

  it('cuts off a body sent byte by byte once the request time is up, with 408 REQUEST_TIMEOUT', async () => {
    // The same hardening on a bare server, with limits short enough for a test.
    const server = createServer((incoming, response) => {
      incoming.resume();
      incoming.on('end', () => response.end('too late'));
    });
    const warnings: object[] = [];
    hardenHttpServer(
      server,
      { warn: (details) => warnings.push(details) },
      { headersTimeoutMs: 500, requestTimeoutMs: 800, keepAliveTimeoutMs: 500, checkEveryMs: 100 },
    );
    const slowBody = [
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n',
      ...'a'.repeat(100),
    ];

    const { text, ms } = await rawExchange(server, slowBody, 50);
    server.close();

    expect(parse(text)).toMatchObject({ status: 408, body: { code: 'REQUEST_TIMEOUT' } });
    expect(ms).toBeLessThan(3_000);
    expect(warnings).toEqual([expect.objectContaining({ errorCode: 'ERR_HTTP_REQUEST_TIMEOUT' })]);
  });

  describe('Cache-Control: no-store', () => {
    it.each([
      ['a registration', () => request(api.http).post('/users').send(newRegistration())],
      [
        'a sign-in',
        () =>
          request(api.http)
            .post('/login')
            .send({ username: 'nobody', password: 'a long password' }),
      ],
      ['the signed-in user', () => request(api.http).get('/users/me')],
      ['an unknown route', () => request(api.http).get('/nowhere')],
      ['the health check', () => request(api.http).get('/health')],
    ])('is on the answer to %s', async (_case, send) => {
      const response = await send();

      expect(response.headers['cache-control']).toBe('no-store');
    });
  });
});
