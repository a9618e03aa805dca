import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { IsDefined, IsString, MaxLength } from 'class-validator';

const REQUIRED = { message: '$property is required' };
const STRING = { message: '$property must be a string' };
const AT_MOST = { message: '$property must be at most $constraint1 characters long' };

/**
 * `POST /activate`, from the page's form or as JSON: the link's username and token, and
 * the account's password. Only shape and size are checked here: a value that cannot be a
 * username or a token is an invalid link (the core says so), not a hint about which part
 * was wrong.
 *
 * class-validator checks a property's rules from the bottom decorator up and, with
 * stopAtFirstError, reports the first broken one: presence, then type, then size.
 */
@ApiSchema({ name: 'ActivationRequest' })
export class ActivateAccountDto {
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

  /**
   * The account's password: the second proof, besides the mailbox. Never trimmed; as
   * lenient in length as sign-in, so a wrong one is a wrong password, not a bad request.
   */
  @ApiProperty({
    maxLength: 1024,
    format: 'password',
    description: 'The password chosen at registration.',
  })
  @MaxLength(1024, AT_MOST)
  @IsString(STRING)
  @IsDefined(REQUIRED)
  password!: string;
}
