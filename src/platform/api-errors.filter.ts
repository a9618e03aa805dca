/**
 * Turns every error into the API's error shape. Domain errors get their HTTP status here,
 * at the edge; body-parser failures (malformed JSON, too large, bad charset) become the
 * 4xx they are; anything unexpected is logged and becomes a 500 that reveals nothing.
 */
import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import { DomainError, InvalidUserInputError } from '../activation';
import { ApiException, type ApiErrorBody } from './api-error';

const DOMAIN_STATUS: Record<string, HttpStatus> = {
  VALIDATION_FAILED: HttpStatus.BAD_REQUEST,
  INVALID_CREDENTIALS: HttpStatus.UNAUTHORIZED,
  ACCOUNT_NOT_ACTIVATED: HttpStatus.FORBIDDEN,
  WRONG_PASSWORD: HttpStatus.FORBIDDEN,
  PASSWORD_RESET_LINK_INVALID: HttpStatus.BAD_REQUEST,
  USER_NOT_FOUND: HttpStatus.NOT_FOUND,
  USERNAME_TAKEN: HttpStatus.CONFLICT,
  EMAIL_TAKEN: HttpStatus.CONFLICT,
  STORE_BUSY: HttpStatus.SERVICE_UNAVAILABLE,
};

/** body-parser's error types (https://github.com/expressjs/body-parser#errors). */
const BODY_PARSER_ERRORS: Record<string, [HttpStatus, string, string]> = {
  'entity.parse.failed': [HttpStatus.BAD_REQUEST, 'MALFORMED_JSON', 'The body is not valid JSON.'],
  'entity.too.large': [HttpStatus.PAYLOAD_TOO_LARGE, 'PAYLOAD_TOO_LARGE', 'The body is too large.'],
  'entity.verify.failed': [HttpStatus.BAD_REQUEST, 'BAD_REQUEST', 'The body was refused.'],
  'encoding.unsupported': [
    HttpStatus.UNSUPPORTED_MEDIA_TYPE,
    'UNSUPPORTED_ENCODING',
    'The content encoding is not supported.',
  ],
  'charset.unsupported': [
    HttpStatus.UNSUPPORTED_MEDIA_TYPE,
    'UNSUPPORTED_CHARSET',
    'The charset is not supported.',
  ],
  'request.aborted': [HttpStatus.BAD_REQUEST, 'REQUEST_ABORTED', 'The request was aborted.'],
  'request.size.invalid': [
    HttpStatus.BAD_REQUEST,
    'BAD_REQUEST',
    'The body length does not match Content-Length.',
  ],
  'stream.encoding.set': [HttpStatus.BAD_REQUEST, 'BAD_REQUEST', 'The request could not be read.'],
  'parameters.too.many': [
    HttpStatus.PAYLOAD_TOO_LARGE,
    'PAYLOAD_TOO_LARGE',
    'Too many parameters.',
  ],
};

/** The stable codes body-parser's errors become, by status (for the OpenAPI document). */
export function bodyParserErrorCodes(): Readonly<Record<number, readonly string[]>> {
  const codes: Record<number, string[]> = {};
  for (const [status, code] of Object.values(BODY_PARSER_ERRORS)) {
    const list = (codes[status] ??= []);
    if (!list.includes(code)) list.push(code);
  }
  return codes;
}

interface BodyParserError {
  type: string;
  status?: number;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as BodyParserError).type === 'string' &&
    typeof (error as BodyParserError).status === 'number'
  );
}

/** Codes of 503s that pass by themselves, and how long a client should wait before retrying. */
export const RETRY_AFTER_SECONDS: Record<string, number> = {
  STORE_BUSY: 1,
  DEPENDENCY_UNAVAILABLE: 5,
  RATE_LIMITER_UNAVAILABLE: 5,
};

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const TRANSIENT_AWS_ERRORS = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
]);

/**
 * DynamoDB (or another AWS service) is unreachable, throttling or failing on its side:
 * not the client's fault and likely to pass, so a 503 with Retry-After, not a 500.
 */
export function isDependencyUnavailable(error: unknown): boolean {
  // Duck-typed, not `instanceof Error`: system errors may come from another realm.
  if (typeof error !== 'object' || error === null) return false;
  const { name, code, $fault, $retryable, $metadata } = error as {
    name?: unknown;
    code?: unknown;
    $fault?: unknown;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  return (
    (typeof code === 'string' && UNREACHABLE_CODES.has(code)) ||
    // An SDK call that never got an HTTP answer: a network failure, even when the SDK has
    // wrapped it and lost its `code` (as it does for errors from another realm).
    (typeof $metadata === 'object' &&
      $metadata !== null &&
      $metadata.httpStatusCode === undefined) ||
    (typeof name === 'string' && TRANSIENT_AWS_ERRORS.has(name)) ||
    $fault === 'server' ||
    Boolean($retryable)
  );
}

const codeFromStatus = (status: number) =>
  (STATUS_CODES[status] ?? 'Error').toUpperCase().replace(/[^A-Z0-9]+/g, '_');

@Catch()
export class ApiErrorsFilter implements ExceptionFilter {
  private readonly logger = new Logger(ApiErrorsFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request & { id?: string }>();
    const response = http.getResponse<Response>();
    const body = this.toBody(exception);
    if (body.statusCode >= 500) {
      this.logger.error({ err: exception, code: body.code }, 'request failed');
    }
    const retryAfter = RETRY_AFTER_SECONDS[body.code];
    if (retryAfter !== undefined) response.setHeader('Retry-After', String(retryAfter));
    if (response.headersSent) return;
    response.status(body.statusCode).json({ ...body, requestId: request.id });
  }

  /** The error shape (and so the status) of any exception; also used by route-specific filters. */
  protected toBody(exception: unknown): ApiErrorBody {
    if (exception instanceof ApiException) {
      return this.body(exception.getStatus(), exception.code, exception.message, exception.errors);
    }
    if (exception instanceof DomainError) {
      const status = DOMAIN_STATUS[exception.code] ?? HttpStatus.BAD_REQUEST;
      const errors = exception instanceof InvalidUserInputError ? exception.errors : undefined;
      return this.body(status, exception.code, exception.message, errors);
    }
    // Nest wraps body-parser's errors into HttpExceptions; their cause tells which one.
    if (exception instanceof HttpException && isBodyParserError(exception.cause)) {
      const known = BODY_PARSER_ERRORS[exception.cause.type];
      if (known) return this.body(...known);
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const message = status >= 500 ? 'Internal server error.' : exception.message;
      return this.body(status, codeFromStatus(status), message);
    }
    if (isBodyParserError(exception)) {
      const known = BODY_PARSER_ERRORS[exception.type];
      if (known) return this.body(...known);
      if (exception.status && exception.status < 500) {
        return this.body(
          exception.status,
          codeFromStatus(exception.status),
          'The request could not be read.',
        );
      }
    }
    if (isDependencyUnavailable(exception)) {
      return this.body(
        HttpStatus.SERVICE_UNAVAILABLE,
        'DEPENDENCY_UNAVAILABLE',
        'A service this API depends on is unavailable; try again shortly.',
      );
    }
    return this.body(HttpStatus.INTERNAL_SERVER_ERROR, 'INTERNAL_ERROR', 'Internal server error.');
  }

  private body(
    statusCode: number,
    code: string,
    message: string,
    errors?: ApiErrorBody['errors'],
  ): ApiErrorBody {
    return {
      statusCode,
      error: STATUS_CODES[statusCode] ?? 'Error',
      code,
      message,
      ...(errors ? { errors } : {}),
    };
  }
}
