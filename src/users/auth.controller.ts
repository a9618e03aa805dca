import { Body, Controller, HttpCode, HttpStatus, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { InvalidCredentialsError, type PublicUser, SignInService } from '../activation';
import { Accepts } from '../platform/json-body.guard';
import { ApiAnswers, FAILURES, INVALID_FIELDS, STORE_BUSY } from '../platform/openapi/api-answers';
import { RateLimited } from '../platform/rate-limits/rate-limited.decorator';
import { LoginDto } from './dto/login.dto';
import { SignedInBody } from './dto/responses';
import {
  SESSION_COOKIE_CLEARED,
  SESSION_COOKIE_SET,
  SessionCookie,
} from './sessions/session-cookie';
import { CurrentSession, SESSION_SECURITY, SignedIn } from './sessions/session.guard';
import { type Session, SessionStore } from './sessions/session-store';

@ApiTags('sessions')
@Controller()
export class AuthController {
  constructor(
    private readonly signIn: SignInService,
    private readonly sessions: SessionStore,
    private readonly cookie: SessionCookie,
  ) {}

  /**
   * Starts a session (cookie) for an activated account.
   * 401 INVALID_CREDENTIALS for a wrong username or password; 403 ACCOUNT_NOT_ACTIVATED
   * for the right password of an account that is not DONE yet.
   */
  @Post('login')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    operationId: 'signIn',
    summary: 'Sign in',
    description: 'Starts a session for an activated account: the session cookie.',
  })
  @ApiAnswers(
    {
      status: 200,
      json: SignedInBody,
      description: 'Signed in.',
      headers: { 'Set-Cookie': SESSION_COOKIE_SET },
    },
    INVALID_FIELDS,
    {
      status: 401,
      codes: ['INVALID_CREDENTIALS'],
      description:
        'Unknown username or wrong password: one answer for both (`INVALID_CREDENTIALS`).',
    },
    {
      status: 403,
      codes: ['ACCOUNT_NOT_ACTIVATED'],
      description:
        'The right password of an account that is not activated yet (`ACCOUNT_NOT_ACTIVATED`).',
    },
    STORE_BUSY,
    ...FAILURES,
  )
  @RateLimited('login-account-address', 'login-account', 'login-address')
  @Accepts('application/json')
  async login(
    @Body() body: LoginDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<{ user: PublicUser; expiresAt: string }> {
    const { user, passwordHash } = await this.signIn.signIn(body.username, body.password);
    // Undefined when the password changed between the check and now: it is wrong now.
    const session = await this.sessions.start({ username: user.username, passwordHash });
    if (!session) throw new InvalidCredentialsError();
    this.cookie.write(response, session.token, session.expiresAt);
    return { user, expiresAt: session.expiresAt.toISOString() };
  }

  /** Ends the session server-side (for every instance) and clears the cookie. Idempotent. */
  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    operationId: 'signOut',
    summary: 'Sign out',
    description:
      'Ends the session of the cookie, if any, and clears the cookie. Without a cookie, or with one of an ended session, it only clears it: signing out twice is fine.',
  })
  // The cookie is optional here.
  @ApiSecurity({})
  @ApiSecurity(SESSION_SECURITY)
  @ApiAnswers(
    {
      status: 204,
      description: 'Signed out.',
      headers: { 'Set-Cookie': SESSION_COOKIE_CLEARED },
    },
    STORE_BUSY,
    ...FAILURES,
  )
  async logout(
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    const token = this.cookie.read(request);
    if (token) await this.sessions.end(token);
    this.cookie.clear(response);
  }

  /**
   * Signs the account out everywhere: every session of it ends, on every instance, this
   * one included, and the cookie is cleared. 401 NOT_SIGNED_IN without a live session.
   */
  @Post('logout/all')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    operationId: 'signOutEverywhere',
    summary: 'Sign out everywhere',
    description: 'Ends every session of the account, this one included, and clears the cookie.',
  })
  @ApiAnswers(
    {
      status: 204,
      description: 'Every session of the account ended.',
      headers: { 'Set-Cookie': SESSION_COOKIE_CLEARED },
    },
    STORE_BUSY,
    ...FAILURES,
  )
  @SignedIn()
  async logoutEverywhere(
    @CurrentSession() session: Session,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    await this.sessions.endAll(session.username);
    this.cookie.clear(response);
  }
}
