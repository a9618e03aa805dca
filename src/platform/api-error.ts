/**
 * The one error shape of the API:
 * `{ statusCode, error, code, message, errors?, requestId }`, where `code` is stable and
 * `errors` lists field-level problems of a 400.
 */
import { HttpException, HttpStatus } from '@nestjs/common';
import type { FieldError } from '../activation';

export interface ApiErrorBody {
  readonly statusCode: number;
  readonly error: string;
  readonly code: string;
  readonly message: string;
  readonly errors?: readonly FieldError[];
  readonly requestId?: string;
}

/** An HttpException carrying a stable code (and field errors) for the error filter. */
export class ApiException extends HttpException {
  constructor(
    status: HttpStatus,
    readonly code: string,
    message: string,
    readonly errors?: readonly FieldError[],
  ) {
    super(message, status);
  }
}
