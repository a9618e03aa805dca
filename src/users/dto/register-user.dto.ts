import { IsDefined, IsString } from 'class-validator';
import {
  emailProblems,
  nameProblems,
  normaliseEmail,
  normaliseName,
  normaliseUsername,
  passwordProblems,
  usernameProblems,
} from '../../activation';
import { FollowsRule } from './follows-rule.decorator';

const REQUIRED = { message: '$property is required' };
const STRING = { message: '$property must be a string' };

/** `POST /users`. Values are normalised by the core (the rules below check the normalised form). */
export class RegisterUserDto {
  @IsDefined(REQUIRED)
  @IsString(STRING)
  @FollowsRule(usernameProblems, normaliseUsername)
  username!: string;

  @IsDefined(REQUIRED)
  @IsString(STRING)
  @FollowsRule(emailProblems, normaliseEmail)
  email!: string;

  @IsDefined(REQUIRED)
  @IsString(STRING)
  @FollowsRule(nameProblems, normaliseName)
  name!: string;

  @IsDefined(REQUIRED)
  @IsString(STRING)
  @FollowsRule(passwordProblems)
  password!: string;
}
