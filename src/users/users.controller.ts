import { Body, Controller, Get, HttpCode, HttpStatus, Post, UseGuards } from '@nestjs/common';
import { type PublicUser, RegistrationService, toPublicUser, UserStore } from '../activation';
import { ApiException } from '../platform/api-error';
import { RateLimited } from '../platform/rate-limits/rate-limited.decorator';
import { Accepts } from '../platform/json-body.guard';
import { RegisterUserDto } from './dto/register-user.dto';
import { CurrentSession, SessionGuard } from './sessions/session.guard';
import type { Session } from './sessions/session-store';

@Controller('users')
export class UsersController {
  constructor(
    private readonly registration: RegistrationService,
    private readonly users: UserStore,
  ) {}

  /** Registers a user in status NONE; the activation mail follows through the stream. */
  @Post()
  @HttpCode(HttpStatus.CREATED)
  @RateLimited('register-address')
  @Accepts('application/json')
  register(@Body() body: RegisterUserDto): Promise<PublicUser> {
    return this.registration.register(body);
  }

  /** The signed-in user. */
  @Get('me')
  @UseGuards(SessionGuard)
  async me(@CurrentSession() session: Session): Promise<PublicUser> {
    const user = await this.users.findByUsername(session.username);
    if (!user) throw new ApiException(HttpStatus.UNAUTHORIZED, 'NOT_SIGNED_IN', 'Sign in first.');
    return toPublicUser(user);
  }
}
