import { Body, Controller, Get, HttpCode, HttpStatus, Post, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import {
  PasswordChangeService,
  type PublicUser,
  RegistrationService,
  toPublicUser,
  UserStore,
} from '../activation';
import { ApiException } from '../platform/api-error';
import { Accepts } from '../platform/json-body.guard';
import { ApiAnswers, FAILURES, INVALID_FIELDS, STORE_BUSY } from '../platform/openapi/api-answers';
import { RateLimited } from '../platform/rate-limits/rate-limited.decorator';
import { RegisterUserDto } from './dto/register-user.dto';
import { PasswordChangedBody, PublicUserBody } from './dto/responses';
import { ChangePasswordDto } from './password/password.dto';
import { SESSION_COOKIE_SET_OR_CLEARED, SessionCookie } from './sessions/session-cookie';
import { CurrentSession, NOT_SIGNED_IN, SignedIn } from './sessions/session.guard';
import { type Session, SessionStore } from './sessions/session-store';

@ApiTags('users')
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
  @ApiOperation({
    operationId: 'registerUser',
    summary: 'Register',
    description:
      "Registers an account in status `NONE`; the activation mail with its link follows within seconds. Sign-up reveals no e-mail address: an active account's address is answered like a free one (nothing is stored; its owner gets a mail saying someone tried), a pending account's is taken over. Registering a pending username again with its own password updates it (a typo fix).",
  })
  @ApiAnswers(
    {
      status: 201,
      json: PublicUserBody,
      description:
        'Registered as given, not active yet (the same answer for the address of an active account).',
    },
    INVALID_FIELDS,
    {
      status: 409,
      codes: ['USERNAME_TAKEN'],
      description:
        "The username is an active account's, or a pending account's with another password (`USERNAME_TAKEN`).",
    },
    STORE_BUSY,
    ...FAILURES,
  )
  @RateLimited('register-address')
  @Accepts('application/json')
  register(@Body() body: RegisterUserDto): Promise<PublicUser> {
    return this.registration.register(body);
  }

  /** The signed-in user. */
  @Get('me')
  @ApiOperation({ operationId: 'getCurrentUser', summary: 'The signed-in user' })
  @ApiAnswers(
    { status: 200, json: PublicUserBody, description: 'The account of the session.' },
    STORE_BUSY,
    ...FAILURES,
  )
  @SignedIn()
  async me(@CurrentSession() session: Session): Promise<PublicUser> {
    const user = await this.users.findByUsername(session.username);
    if (!user) throw new ApiException(HttpStatus.UNAUTHORIZED, NOT_SIGNED_IN, 'Sign in first.');
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
  @ApiOperation({
    operationId: 'changePassword',
    summary: 'Change the password',
    description:
      'Signed in: the current password, then the new one. Every session of the account ends; this client gets a fresh session and cookie, and the owner a "password changed" mail. Wrong current passwords count against the sign-in limits.',
  })
  @ApiAnswers(
    {
      status: 200,
      json: PasswordChangedBody,
      description:
        'Changed. With `expiresAt`, this client has a fresh session (its cookie set); without it, the password changed again meanwhile and this client is signed out too (its cookie cleared).',
      headers: { 'Set-Cookie': SESSION_COOKIE_SET_OR_CLEARED },
    },
    INVALID_FIELDS,
    {
      status: 403,
      codes: ['WRONG_PASSWORD'],
      description: 'The current password is wrong (`WRONG_PASSWORD`).',
    },
    STORE_BUSY,
    ...FAILURES,
  )
  // Guards run bottom-up: the media type, the session, then the limits (by its account).
  @RateLimited('login-account-address', 'login-account')
  @SignedIn()
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
