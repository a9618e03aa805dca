/**
 * Bridges the core's rules (src/activation/user-rules.ts) into class-validator, so the
 * API and the core apply one definition of "valid". Non-strings are left to @IsString.
 */
import { registerDecorator, type ValidationArguments } from 'class-validator';

export function FollowsRule(
  problems: (value: string) => string[],
  normalise: (value: string) => string = (value) => value,
): PropertyDecorator {
  const check = (value: unknown) => (typeof value === 'string' ? problems(normalise(value)) : []);
  return (target, propertyName) => {
    registerDecorator({
      name: 'followsRule',
      target: target.constructor,
      propertyName: propertyName as string,
      validator: {
        validate: (value: unknown) => check(value).length === 0,
        defaultMessage: (args?: ValidationArguments) => check(args?.value).join('; '),
      },
    });
  };
}
