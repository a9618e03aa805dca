/**
 * The bodies of the password routes. The new password follows the core's rule
 * (`passwordProblems`); the other values are checked only for shape and size: a value
 * that cannot be a username or a token is an invalid link (the core says so), and a wrong
 * current password is a 403, not a hint.
 */
import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { IsDefined, IsOptional, IsString, MaxLength } from 'class-validator';
import { passwordProblems } from '../../activation';
import { FollowsRule } from '../dto/follows-rule.decorator';
import { NEW_PASSWORD_RULE } from '../dto/register-user.dto';
import { SameAs } from '../dto/same-as.decorator';

const REQUIRED = { message: '$property is required' };
const STRING = { message: '$property must be a string' };
const AT_MOST = { message: '$property must be at most $constraint1 characters long' };

/** The core's password rule, its messages naming `field`. */
const newPasswordProblems = (field: string) => (value: string) =>
  passwordProblems(value).map((message) => message.replace(/^password\b/, field));

/** `POST /password-reset/new`, from the link's page or as JSON. */
@ApiSchema({ name: 'PasswordResetRequest' })
export class ResetPasswordDto {
  @ApiProperty({ maxLength: 64, description: "The link's `username`.", examples: ['ada.lovelace'] })
  @MaxLength(64, AT_MOST)
  @IsString(STRING)
  @IsDefined(REQUIRED)
  username!: string;

  @ApiProperty({ maxLength: 128, description: "The link's `token`." })
  @MaxLength(128, AT_MOST)
  @IsString(STRING)
  @IsDefined(REQUIRED)
  token!: string;

  @ApiProperty({
    ...NEW_PASSWORD_RULE,
    description: `The new password: ${NEW_PASSWORD_RULE.description}`,
  })
  @FollowsRule(passwordProblems)
  @IsString(STRING)
  @IsDefined(REQUIRED)
  password!: string;

  /** The page's second field; when given (the form always does), it must be `password`. */
  @ApiProperty({
    required: false,
    maxLength: 1024,
    format: 'password',
    description:
      'The new password again (the page sends it); when given, it must equal `password`.',
  })
  @SameAs('password')
  @MaxLength(1024, AT_MOST)
  @IsString(STRING)
  @IsOptional()
  passwordConfirmation?: string;
}

/** `POST /users/me/password`, signed in. */
@ApiSchema({ name: 'PasswordChange' })
export class ChangePasswordDto {
  @ApiProperty({ maxLength: 1024, format: 'password' })
  @MaxLength(1024, AT_MOST)
  @IsString(STRING)
  @IsDefined(REQUIRED)
  currentPassword!: string;

  @ApiProperty({
    ...NEW_PASSWORD_RULE,
    description: `The new password: ${NEW_PASSWORD_RULE.description}`,
  })
  @FollowsRule(newPasswordProblems('newPassword'))
  @IsString(STRING)
  @IsDefined(REQUIRED)
  newPassword!: string;

  /** The page's third field; when given (the form always does), it must be `newPassword`. */
  @ApiProperty({
    required: false,
    maxLength: 1024,
    format: 'password',
    description:
      'The new password again (the page sends it); when given, it must equal `newPassword`.',
  })
  @SameAs('newPassword')
  @MaxLength(1024, AT_MOST)
  @IsString(STRING)
  @IsOptional()
  newPasswordConfirmation?: string;
}
