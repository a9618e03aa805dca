import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { IsDefined, IsString } from 'class-validator';
import {
  EMAIL_MAX_LENGTH,
  emailProblems,
  NAME_MAX_LENGTH,
  nameProblems,
  normaliseEmail,
  normaliseName,
  normaliseUsername,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  passwordProblems,
  USERNAME_MAX_LENGTH,
  USERNAME_MIN_LENGTH,
  usernameProblems,
} from '../../activation';
import { FollowsRule } from './follows-rule.decorator';

const REQUIRED = { message: '$property is required' };
const STRING = { message: '$property must be a string' };

/** The rules of the core, for the OpenAPI document (user-rules.ts has the checks). */
export const USERNAME_RULE = `${USERNAME_MIN_LENGTH} to ${USERNAME_MAX_LENGTH} characters of a-z, 0-9, \`.\`, \`_\`, \`-\`, after trimming and lower-casing (\`Ada\` is \`ada\`).`;
export const EMAIL_RULE = `An address mail can be delivered to, at most ${EMAIL_MAX_LENGTH} characters: an ASCII local part; the domain may be internationalised (\`ann@bücher.example\`). One account per mailbox, however it is spelt.`;
export const NEW_PASSWORD_RULE = {
  minLength: PASSWORD_MIN_LENGTH,
  maxLength: PASSWORD_MAX_LENGTH,
  format: 'password',
  description: `${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters, taken as typed (never trimmed); no other rule.`,
} as const;

/** `POST /users`. Values are normalised by the core (the rules below check the normalised form). */
@ApiSchema({ name: 'Registration' })
export class RegisterUserDto {
  @ApiProperty({ description: USERNAME_RULE, examples: ['ada.lovelace'] })
  @IsDefined(REQUIRED)
  @IsString(STRING)
  @FollowsRule(usernameProblems, normaliseUsername)
  username!: string;

  @ApiProperty({ description: EMAIL_RULE, examples: ['ada@example.org'] })
  @IsDefined(REQUIRED)
  @IsString(STRING)
  @FollowsRule(emailProblems, normaliseEmail)
  email!: string;

  @ApiProperty({
    description: `1 to ${NAME_MAX_LENGTH} characters after trimming, with a letter, digit or symbol; no control characters.`,
    examples: ['Ada Lovelace'],
  })
  @IsDefined(REQUIRED)
  @IsString(STRING)
  @FollowsRule(nameProblems, normaliseName)
  name!: string;

  @ApiProperty(NEW_PASSWORD_RULE)
  @IsDefined(REQUIRED)
  @IsString(STRING)
  @FollowsRule(passwordProblems)
  password!: string;
}
