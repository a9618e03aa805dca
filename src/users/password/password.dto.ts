/**
 * The bodies of the password routes. The new password follows the core's rule
 * (`passwordProblems`); the other values are checked only for shape and size: a value
 * that cannot be a username or a token is an invalid link (the core says so), and a wrong
 * current password is a 403, not a hint.
 */
import { IsDefined, IsOptional, IsString, MaxLength } from 'class-validator';
import { passwordProblems } from '../../activation';
import { FollowsRule } from '../dto/follows-rule.decorator';

const REQUIRED = { message: '$property is required' };
const STRING = { message: '$property must be a string' };
const AT_MOST = { message: '$property must be at most $constraint1 characters long' };

/** The core's password rule, its messages naming `field`. */
const newPasswordProblems = (field: string) => (value: string) =>
  passwordProblems(value).map((message) => message.replace(/^password\b/, field));

/** `POST /password-reset/new`, from the link's page or as JSON. */
export class ResetPasswordDto {
  @MaxLength(64, AT_MOST)
  @IsString(STRING)
  @IsDefined(REQUIRED)
  username!: string;

  @MaxLength(128, AT_MOST)
  @IsString(STRING)
  @IsDefined(REQUIRED)
  token!: string;

  @FollowsRule(passwordProblems)
  @IsString(STRING)
  @IsDefined(REQUIRED)
  password!: string;

  /** The page's second field; when given (the form always does), it must be `password`. */
  @MaxLength(1024, AT_MOST)
  @IsString(STRING)
  @IsOptional()
  passwordConfirmation?: string;
}

/** `POST /users/me/password`, signed in. */
export class ChangePasswordDto {
  @MaxLength(1024, AT_MOST)
  @IsString(STRING)
  @IsDefined(REQUIRED)
  currentPassword!: string;

  @FollowsRule(newPasswordProblems('newPassword'))
  @IsString(STRING)
  @IsDefined(REQUIRED)
  newPassword!: string;
}
