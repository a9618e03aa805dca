import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { IsDefined, IsString, MaxLength } from 'class-validator';

const REQUIRED = { message: '$property is required' };
const STRING = { message: '$property must be a string' };

/**
 * `POST /login`. Only shape is checked here: a wrong value is a 401, not a hint.
 * class-validator reports the first broken rule from the bottom up, so presence sits
 * lowest, then the type, then the length.
 */
@ApiSchema({ name: 'Credentials' })
export class LoginDto {
  @ApiProperty({
    maxLength: 256,
    description: 'The username, in any letter case.',
    examples: ['ada.lovelace'],
  })
  @MaxLength(256)
  @IsString(STRING)
  @IsDefined(REQUIRED)
  username!: string;

  @ApiProperty({ maxLength: 1024, format: 'password' })
  @MaxLength(1024)
  @IsString(STRING)
  @IsDefined(REQUIRED)
  password!: string;
}
