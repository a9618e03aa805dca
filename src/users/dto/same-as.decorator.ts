/**
 * A confirmation field (a form's "the new password again"): when given, it must be the
 * same string as `field`. Checked with the other fields, so a page shows every problem at
 * once. Non-strings are left to @IsString.
 */
import { ValidateBy, type ValidationArguments } from 'class-validator';

export const SAME_AS = 'sameAs';
const MUST_EQUAL = 'must equal';

/** Whether `message` is the SameAs message of `property`. */
export const isSameAsMessage = (message: string, property: string) =>
  message.startsWith(`${property} ${MUST_EQUAL} `);

export function SameAs(field: string): PropertyDecorator {
  return ValidateBy({
    name: SAME_AS,
    constraints: [field],
    validator: {
      validate: (value: unknown, args?: ValidationArguments) =>
        typeof value !== 'string' || value === (args?.object as Record<string, unknown>)[field],
      defaultMessage: () => `$property ${MUST_EQUAL} ${field}`,
    },
  });
}
