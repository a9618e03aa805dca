/**
 * The wire protocol of the Step Functions API as the AWS SDK for JavaScript v3 and the AWS
 * CLI speak it: awsJson1_0. Every call is `POST /` with `X-Amz-Target: AWSStepFunctions.<Action>`
 * and a JSON body; timestamps are epoch seconds. Errors are HTTP 400 with
 * `{"__type": "<Code>", "message": "..."}` (and the same code in `x-amzn-ErrorType`), which
 * is how the SDK picks the modelled exception class, e.g. `ExecutionAlreadyExists`.
 *
 * Nothing a client sends can make this answer 500 or throw out of the request handler.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

const SERVICE_TARGET = 'AWSStepFunctions';
const CONTENT_TYPE = 'application/x-amz-json-1.0';
/** Execution input is capped at 256 KB; its JSON-escaped form in a request is larger. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;

/** A client mistake (or a refused request), answered the way Step Functions answers it. */
export class SfnApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
    this.name = code;
  }
}

export type ActionHandler = (request: RequestParams) => Promise<object> | object;

export interface ProtocolLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Reads typed parameters from a request body, refusing wrong types like the service does. */
export class RequestParams {
  constructor(private readonly body: Readonly<Record<string, unknown>>) {}

  requiredString(name: string, maxLength = 256): string {
    const value = this.optionalString(name, maxLength);
    if (value === undefined) {
      throw validationError(
        `Value null at '${name}' failed to satisfy constraint: Member must not be null`,
      );
    }
    return value;
  }

  optionalString(name: string, maxLength: number): string | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw serializationError(name, 'a string');
    if (value.length > maxLength) {
      throw validationError(
        `Value at '${name}' failed to satisfy constraint: Member must have length less than or equal to ${maxLength}`,
      );
    }
    return value;
  }

  optionalInteger(name: string, min: number, max: number): number | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw serializationError(name, 'an integer');
    }
    if (value < min || value > max) {
      throw validationError(
        `Value '${value}' at '${name}' failed to satisfy constraint: Member must have value between ${min} and ${max}`,
      );
    }
    return value;
  }

  optionalBoolean(name: string): boolean | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw serializationError(name, 'a boolean');
    return value;
  }

  optionalEnum<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const value = this.optionalString(name, 256);
    if (value === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(value)) {
      throw validationError(
        `Value '${value}' at '${name}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(', ')}]`,
      );
    }
    return value as T;
  }
}

function validationError(detail: string): SfnApiError {
  return new SfnApiError('ValidationException', `1 validation error detected: ${detail}`);
}

function serializationError(name: string, expected: string): SfnApiError {
  return new SfnApiError('SerializationException', `'${name}' must be ${expected}`);
}

/**
 * awsJson timestamps are epoch seconds (fractions allowed). Handlers answer with `Date`s,
 * typed by the SDK's own models; this replacer puts them on the wire.
 */
function toWireJson(body: object): string {
  return JSON.stringify(
    body,
    function (this: Record<string, unknown>, key: string, value: unknown) {
      const raw = this[key];
      // Duck-typed: a Date from another realm (structuredClone, jest's vm) fails instanceof.
      return Object.prototype.toString.call(raw) === '[object Date]'
        ? (raw as Date).getTime() / 1000
        : value;
    },
  );
}

function send(
  response: ServerResponse,
  statusCode: number,
  body: object,
  errorCode?: string,
): void {
  const payload = toWireJson(body);
  response.writeHead(statusCode, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': randomUUID(),
    ...(errorCode ? { 'x-amzn-errortype': errorCode } : {}),
  });
  response.end(payload);
}

function sendError(response: ServerResponse, error: SfnApiError): void {
  send(response, error.statusCode, { __type: error.code, message: error.message }, error.code);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) {
      throw new SfnApiError(
        'RequestEntityTooLargeException',
        `Request body exceeds ${MAX_BODY_BYTES} bytes`,
        413,
      );
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SfnApiError('SerializationException', 'The request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SfnApiError('SerializationException', 'The request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function actionOf(request: IncomingMessage): string {
  const target = request.headers['x-amz-target'];
  const prefix = `${SERVICE_TARGET}.`;
  if (typeof target !== 'string' || !target.startsWith(prefix)) {
    throw new SfnApiError(
      'UnknownOperationException',
      `Missing or unknown X-Amz-Target (expected ${prefix}<Action>)`,
    );
  }
  return target.slice(prefix.length);
}

function isSfnApiError(value: unknown): value is SfnApiError {
  // Duck-typed: the class may come from another module instance under jest.
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as SfnApiError).code === 'string' &&
    typeof (value as SfnApiError).statusCode === 'number'
  );
}

/** The HTTP request listener for a set of actions. */
export function awsJsonRequestListener(
  actions: Readonly<Record<string, ActionHandler>>,
  logger: ProtocolLogger,
): RequestListener {
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    try {
      if (request.method !== 'POST') {
        throw new SfnApiError('UnknownOperationException', 'Only POST is supported', 404);
      }
      const action = actionOf(request);
      const body = parseBody(await readBody(request));
      const handler = Object.hasOwn(actions, action) ? actions[action] : undefined;
      if (!handler) {
        throw new SfnApiError(
          'UnknownOperationException',
          `The action ${action} is not supported by the local Step Functions endpoint`,
        );
      }
      send(response, 200, await handler(new RequestParams(body)));
    } catch (error) {
      if (isSfnApiError(error)) {
        sendError(response, error);
        return;
      }
      logger.error({ err: error }, 'local Step Functions: request failed');
      sendError(response, new SfnApiError('InternalFailure', 'Internal error', 500));
    }
  };
  return (request, response) => {
    handle(request, response).catch((error: unknown) => {
      // Only writing the answer can fail here (the client went away); keep the server up.
      logger.warn({ err: error }, 'local Step Functions: could not answer a request');
      response.destroy();
    });
  };
}
