import { IsDefined, IsString, MaxLength } from 'class-validator';

const REQUIRED = { message: '$property is required' };
const STRING = { message: '$property must be a string' };

/**
 * `POST /login`. Only shape is checked here: a wrong value is a 401, not a hint.
 * class-validator reports the first broken rule from the bottom up, so presence sits
 * lowest, then the type, then the length.
 */
export class LoginDto {
  @MaxLength(256)
  @IsString(STRING)
  @IsDefined(REQUIRED)
  username!: string;

  @MaxLength(1024)
  @IsString(STRING)
  @IsDefined(REQUIRED)
  password!: string;
}
