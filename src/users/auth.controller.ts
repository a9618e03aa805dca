import { Body, Controller, HttpCode, HttpStatus, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { InvalidCredentialsError, type PublicUser, SignInService } from '../activation';
import { Accepts } from '../platform/json-body.guard';
import { RateLimited } from '../platform/rate-limits/rate-limited.decorator';
import { LoginDto } from './dto/login.dto';
import { SessionCookie } from './sessions/session-cookie';
import { CurrentSession, SessionGuard } from './sessions/session.guard';
import { type Session, SessionStore } from './sessions/session-store';

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
  @UseGuards(SessionGuard)
  async logoutEverywhere(
    @CurrentSession() session: Session,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    await this.sessions.endAll(session.username);
    this.cookie.clear(response);
  }
}
