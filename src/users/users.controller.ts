import { Body, Controller, Get, HttpCode, HttpStatus, Post, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import {
  PasswordChangeService,
  type PublicUser,
  RegistrationService,
  toPublicUser,
  UserStore,
} from '../activation';
import { ApiException } from '../platform/api-error';
import { RateLimited } from '../platform/rate-limits/rate-limited.decorator';
import { Accepts } from '../platform/json-body.guard';
import { RegisterUserDto } from './dto/register-user.dto';
import { ChangePasswordDto } from './password/password.dto';
import { SessionCookie } from './sessions/session-cookie';
import { CurrentSession, SessionGuard } from './sessions/session.guard';
import { type Session, SessionStore } from './sessions/session-store';

@Controller('users')
export class UsersController {
  constructor(
    private readonly registration: RegistrationService,
    private readonly users: UserStore,
    private readonly passwords: PasswordChangeService,
    private readonly sessions: SessionStore,
    private readonly cookie: SessionCookie,
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

  /**
   * Changes the password, signed in: the current one, then the new one. Every session of
   * the account ends (OWASP: on a password change), this one gets a fresh session and
   * cookie (a new id), and the owner gets the "password changed" notice. 403
   * WRONG_PASSWORD for a wrong current password, limited like sign-in.
   */
  @Post('me/password')
  @HttpCode(HttpStatus.OK)
  // Guards run bottom-up: the media type, the session, then the limits (by its account).
  @RateLimited('login-account-address', 'login-account')
  @UseGuards(SessionGuard)
  @Accepts('application/json')
  async changePassword(
    @CurrentSession() session: Session,
    @Body() body: ChangePasswordDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<{ user: PublicUser; expiresAt?: string }> {
    const changed = await this.passwords.changeSignedIn(
      session.username,
      body.currentPassword,
      body.newPassword,
    );
    const fresh = await this.sessions.start({
      username: changed.user.username,
      passwordHash: changed.passwordHash,
    });
    if (!fresh) {
      // Changed again meanwhile (another tab, a reset): this browser is signed out too.
      this.cookie.clear(response);
      return { user: changed.user };
    }
    this.cookie.write(response, fresh.token, fresh.expiresAt);
    return { user: changed.user, expiresAt: fresh.expiresAt.toISOString() };
  }
}
