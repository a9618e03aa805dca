import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { IsDefined, IsString, ValidateIf } from 'class-validator';
import {
  type AccountIdentifier,
  emailProblems,
  normaliseEmail,
  normaliseUsername,
  usernameProblems,
} from '../../activation';
import { FollowsRule } from './follows-rule.decorator';

const STRING = { message: '$property must be a string' };

/**
 * `POST /activation-mail` and `POST /password-reset`, from a page's form or as JSON: the
 * account's e-mail address or its username (with both, the address counts). Only the
 * shape is checked: whether an account has it is never said.
 */
@ApiSchema({
  name: 'AccountIdentifier',
  description: 'The e-mail address or the username of an account (with both, the address counts).',
})
export class AccountIdentifierDto {
  @ApiProperty({
    required: false,
    description:
      "The account's e-mail address. Either this or `username`; with both, the address counts.",
    examples: ['ada@example.org'],
  })
  @IsDefined({ message: 'email (or username) is required' })
  @IsString(STRING)
  @FollowsRule(emailProblems, normaliseEmail)
  @ValidateIf((dto: AccountIdentifierDto) => dto.email !== undefined || dto.username === undefined)
  email?: string;

  @ApiProperty({
    required: false,
    description: "The account's username, when there is no `email`.",
    examples: ['ada.lovelace'],
  })
  @IsString(STRING)
  @FollowsRule(usernameProblems, normaliseUsername)
  @ValidateIf((dto: AccountIdentifierDto) => dto.email === undefined && dto.username !== undefined)
  username?: string;
}

/** The identifier the core looks the account up by: the address when there is one. */
export const accountIdentifierOf = (body: AccountIdentifierDto): AccountIdentifier =>
  body.email !== undefined ? { email: body.email } : { username: body.username ?? '' };
