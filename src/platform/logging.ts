/**
 * Structured JSON logs (pino): one line per request with its id, method, path, status and
 * duration. Never logged: bodies, query strings (activation tokens travel there), cookies,
 * authorization headers.
 *
 * The request logger is mounted as the very first middleware (before body parsing), so a
 * request refused by the body parser still gets an id and a log line. nestjs-pino then
 * reuses it (`useExisting`) for the logs written inside a request.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import { pino } from 'pino';
import { type HttpLogger, pinoHttp } from 'pino-http';
import type { LogLevel } from '../config/app-config';

export const REQUEST_ID_HEADER = 'x-request-id';
// A caller-supplied id is kept only if it is short and harmless (it ends up in logs).
export const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestId(request: IncomingMessage, response: ServerResponse): string {
  const incoming = request.headers[REQUEST_ID_HEADER];
  const id =
    typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  response.setHeader(REQUEST_ID_HEADER, id);
  return id;
}

export interface Logging {
  /** For `LoggerModule.forRoot`. */
  readonly params: Params;
  /** The request-logging middleware, for `app.use` before anything else. */
  readonly httpLogger: HttpLogger;
}

export function createLogging(level: LogLevel): Logging {
  const logger = pino({
    level,
    redact: ['req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]'],
  });
  const httpLogger = pinoHttp({
    logger,
    genReqId: requestId,
    customLogLevel: (_request, response, error) =>
      error || response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : 'info',
    serializers: {
      req: (request: { id: string; method: string; url: string }) => ({
        id: request.id,
        method: request.method,
        path: request.url.split('?')[0],
      }),
      res: (response: { statusCode: number }) => ({ statusCode: response.statusCode }),
    },
  });
  return { params: { pinoHttp: { logger }, useExisting: true }, httpLogger };
}

/** DI token of the request-logging middleware. */
export const HTTP_LOGGER = Symbol('HTTP_LOGGER');
