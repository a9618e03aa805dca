/**
 * Request validation: unknown fields are refused, every broken rule is reported per field,
 * and a value that is not even the right type reports only that.
 */
import {
  type ArgumentMetadata,
  HttpStatus,
  ValidationPipe,
  type ValidationError,
} from '@nestjs/common';
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

const invalidFields = (errors: FieldError[]) =>
  new ApiException(
    HttpStatus.BAD_REQUEST,
    'VALIDATION_FAILED',
    'The request has invalid fields.',
    errors,
  );

/**
 * Levels of objects and arrays a field's value may nest: far more than any field of this
 * API has, far less than the ~1500 at which class-transformer's recursion overflows the
 * stack (a 500 that a 16 kB body of brackets could trigger).
 */
export const MAX_FIELD_DEPTH = 32;

/** How deeply a value nests objects and arrays, counted without recursion (stops past `limit`). */
function depthOf(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    deepest = Math.max(deepest, depth);
    if (deepest > limit) return deepest;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * Keys that never reach the whitelist check: Nest strips `__proto__`, `prototype` and
 * `constructor` (against prototype pollution) and class-transformer skips names of
 * Object.prototype's methods (`toString`, ...), so they would be dropped without a word
 * instead of refused like any other unknown field.
 */
const isSilentlyDroppedKey = (key: string) => key === 'prototype' || key in Object.prototype;

/** Refuses what the ValidationPipe would drop silently or choke on, then validates as usual. */
class BodyValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && typeof value === 'object' && value !== null) {
      const errors: FieldError[] = [];
      for (const [key, child] of Object.entries(value)) {
        if (!Array.isArray(value) && isSilentlyDroppedKey(key)) {
          errors.push({ field: key, messages: [`property ${key} should not exist`] });
        } else if (depthOf(child, MAX_FIELD_DEPTH) > MAX_FIELD_DEPTH) {
          errors.push({
            field: key,
            messages: [`${key} is nested more than ${MAX_FIELD_DEPTH} levels deep`],
          });
        }
      }
      if (errors.length > 0) throw invalidFields(errors);
    }
    return super.transform(value, metadata);
  }
}

export function createValidationPipe(): ValidationPipe {
  return new BodyValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    stopAtFirstError: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => invalidFields(flatten(errors)),
  });
}
