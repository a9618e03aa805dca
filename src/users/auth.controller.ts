import { Body, Controller, HttpCode, HttpStatus, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { InvalidCredentialsError, type PublicUser, SignInService } from '../activation';
import {
  ApiAnswers,
  asPages,
  FAILURES,
  INVALID_FIELDS,
  LOCATION,
  STORE_BUSY,
} from '../platform/openapi/api-answers';
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
import { homePage, SIGN_IN_FIELDS, signOutErrorPage } from './pages/account-pages';
import { answersWithPage, PAGE_OR_JSON } from './pages/answer-format';
import { TakesForms } from './pages/form-body.guard';
import { failedForm, fieldErrorsOf } from './pages/form-state';
import { redirectToPage } from './pages/page';
import { type ClientErrorPage, PagesFilter } from './pages/pages.filter';

export const WRONG_CREDENTIALS_PROBLEM = 'The username or the password is wrong.';
export const NOT_ACTIVATED_PROBLEM =
  'This account is not activated yet. Open the link in the activation mail, or ask for a new mail below.';

/** The start page again with the sign-in's errors (the username kept, never the password). */
const signInErrorPage: ClientErrorPage = (request, exception, { statusCode, code }) => {
  const problem =
    code === 'INVALID_CREDENTIALS'
      ? { field: 'password', messages: [WRONG_CREDENTIALS_PROBLEM] }
      : code === 'ACCOUNT_NOT_ACTIVATED'
        ? { field: 'username', messages: [NOT_ACTIVATED_PROBLEM] }
        : undefined;
  const errors = problem ? [problem] : fieldErrorsOf(exception);
  return homePage({
    status: statusCode,
    signIn: failedForm('sign-in', SIGN_IN_FIELDS, errors, request.body, ['username']),
  });
};

/** `303 See Other`, for a browser's form (OpenAPI). */
const seeOther = (description: string) => ({
  status: 303,
  description,
  headers: { Location: LOCATION },
});

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
    description: `Starts a session for an activated account: the session cookie. ${PAGE_OR_JSON}`,
  })
  @ApiAnswers(
    {
      status: 200,
      json: SignedInBody,
      description: 'Signed in.',
      headers: { 'Set-Cookie': SESSION_COOKIE_SET },
    },
    {
      ...seeOther("A browser's form: signed in, and sent on to the account page (`account`)."),
      headers: { 'Set-Cookie': SESSION_COOKIE_SET, Location: LOCATION },
    },
    { ...INVALID_FIELDS, page: true },
    {
      status: 401,
      codes: ['INVALID_CREDENTIALS'],
      page: true,
      description:
        'Unknown username or wrong password: one answer for both (`INVALID_CREDENTIALS`). A browser gets the start page again, saying so.',
    },
    {
      status: 403,
      codes: ['ACCOUNT_NOT_ACTIVATED'],
      page: true,
      description:
        'The right password of an account that is not activated yet (`ACCOUNT_NOT_ACTIVATED`).',
    },
    ...asPages([STORE_BUSY, ...FAILURES, { status: 429 }]),
  )
  @UseFilters(new PagesFilter(signInErrorPage))
  // Guards run bottom-up: the media type, the form's body, then the limits (by username).
  @RateLimited('login-account-address', 'login-account', 'login-address')
  @TakesForms()
  async login(
    @Body() body: LoginDto,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const { user, passwordHash } = await this.signIn.signIn(body.username, body.password);
    // Undefined when the password changed between the check and now: it is wrong now.
    const session = await this.sessions.start({ username: user.username, passwordHash });
    if (!session) throw new InvalidCredentialsError();
    this.cookie.write(response, session.token, session.expiresAt);
    if (answersWithPage(request)) return redirectToPage(response, 'account');
    const signedIn: { user: PublicUser; expiresAt: string } = {
      user,
      expiresAt: session.expiresAt.toISOString(),
    };
    response.status(HttpStatus.OK).json(signedIn);
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
    {
      ...seeOther(
        "A browser's form: signed out, and sent to the start page (`./?notice=signed-out`).",
      ),
      headers: { 'Set-Cookie': SESSION_COOKIE_CLEARED, Location: LOCATION },
    },
    ...asPages([STORE_BUSY, ...FAILURES]),
  )
  @UseFilters(new PagesFilter(signOutErrorPage))
  @TakesForms()
  async logout(@Req() request: Request, @Res() response: Response): Promise<void> {
    const token = this.cookie.read(request);
    if (token) await this.sessions.end(token);
    this.cookie.clear(response);
    if (answersWithPage(request)) return redirectToPage(response, '?notice=signed-out');
    response.status(HttpStatus.NO_CONTENT).end();
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
    {
      ...seeOther(
        "A browser's form: signed out everywhere, and sent to the start page (`../?notice=signed-out-everywhere`).",
      ),
      headers: { 'Set-Cookie': SESSION_COOKIE_CLEARED, Location: LOCATION },
    },
    {
      status: 401,
      page: true,
      description: 'A browser without a live session: the start page, asking to sign in again.',
    },
    ...asPages([STORE_BUSY, ...FAILURES]),
  )
  @UseFilters(new PagesFilter(signOutErrorPage))
  // Guards run bottom-up: the media type, the form's body, then the session.
  @SignedIn()
  @TakesForms()
  async logoutEverywhere(
    @CurrentSession() session: Session,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    await this.sessions.endAll(session.username);
    this.cookie.clear(response);
    if (answersWithPage(request)) {
      return redirectToPage(response, '?notice=signed-out-everywhere');
    }
    response.status(HttpStatus.NO_CONTENT).end();
  }
}
