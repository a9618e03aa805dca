/**
 * The Node HTTP server under the API (local mode, `npm start`; on Lambda no server
 * listens): limits on how long a client may take to send a request, and an answer in the
 * API's error shape for what Node's parser refuses before Express ever sees it (a
 * malformed request line or header, headers too large, a request sent too slowly). Node's
 * own answer to those is an empty body.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ApiErrorBody } from './api-error';
import { REQUEST_ID_HEADER } from './logging';

/**
 * The whole request (headers and a body of at most BODY_LIMIT) must arrive within
 * `requestTimeoutMs`, its headers within `headersTimeoutMs`; an idle keep-alive
 * connection closes after `keepAliveTimeoutMs`. Node checks the first two every
 * `checkEveryMs` (its default, 30 s, would let a slow client hold a connection for
 * 30 s more). None of them limits the time the API takes to answer.
 */
export interface ServerTimeouts {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly checkEveryMs: number;
}

export const SERVER_TIMEOUTS: ServerTimeouts = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  checkEveryMs: 1_000,
};

/** What Node's parser refused, by its error code: the status and our stable code. */
const CLIENT_ERRORS: Readonly<Record<string, readonly [number, string, string]>> = {
  HPE_HEADER_OVERFLOW: [431, 'HEADERS_TOO_LARGE', 'The request headers are too large.'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'REQUEST_TIMEOUT', 'The request was not sent in time.'],
};
const MALFORMED: readonly [number, string, string] = [
  400,
  'MALFORMED_REQUEST',
  'The request is not valid HTTP.',
];

export interface ClientErrorLog {
  warn(details: object, message: string): void;
}

/** The raw HTTP answer for a refused request: the error shape, and the connection closed. */
export function clientErrorResponse(errorCode: string | undefined, requestId: string): string {
  const [statusCode, code, message] = (errorCode && CLIENT_ERRORS[errorCode]) || MALFORMED;
  const body: ApiErrorBody = {
    statusCode,
    error: STATUS_CODES[statusCode] ?? 'Error',
    code,
    message,
    requestId,
  };
  const json = JSON.stringify(body);
  return [
    `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode] ?? ''}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(json)}`,
    'Cache-Control: no-store',
    `${REQUEST_ID_HEADER}: ${requestId}`,
    'Connection: close',
    '',
    json,
  ].join('\r\n');
}

/** Sets the limits and the error answer; call before the server listens. */
export function hardenHttpServer(
  server: Server,
  log: ClientErrorLog,
  timeouts: ServerTimeouts = SERVER_TIMEOUTS,
): void {
  server.headersTimeout = timeouts.headersTimeoutMs;
  server.requestTimeout = timeouts.requestTimeoutMs;
  server.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
  // Read by Node when the server starts listening.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval =
    timeouts.checkEveryMs;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // A client that went away, or a response already under way: nothing to answer.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const requestId = randomUUID();
    log.warn({ requestId, errorCode: error.code }, 'request refused by the HTTP parser');
    socket.end(clientErrorResponse(error.code, requestId));
  });
}
