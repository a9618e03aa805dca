import { IsDefined, IsString, MaxLength } from 'class-validator';

const REQUIRED = { message: '$property is required' };
const STRING = { message: '$property must be a string' };

/** `POST /login`. Only shape is checked here: a wrong value is a 401, not a hint. */
export class LoginDto {
  @IsDefined(REQUIRED)
  @IsString(STRING)
  @MaxLength(256)
  username!: string;

  @IsDefined(REQUIRED)
  @IsString(STRING)
  @MaxLength(1024)
  password!: string;
}
