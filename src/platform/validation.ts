/**
 * Request validation: unknown fields are refused, every broken rule is reported per field,
 * and a value that is not even the right type reports only that.
 */
import { HttpStatus, ValidationPipe, type ValidationError } from '@nestjs/common';
import type { FieldError } from '../activation';
import { ApiException } from './api-error';

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own: FieldError[] = error.constraints
      ? [{ field: field || '(body)', messages: Object.values(error.constraints) }]
      : [];
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    stopAtFirstError: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) =>
      new ApiException(
        HttpStatus.BAD_REQUEST,
        'VALIDATION_FAILED',
        'The request has invalid fields.',
        flatten(errors),
      ),
  });
}
