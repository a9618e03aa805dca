import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Post,
  Req,
  Res,
  UseFilters,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import {
  PasswordChangeService,
  type PublicUser,
  RegistrationService,
  toPublicUser,
  UserStore,
} from '../activation';
import { ApiException } from '../platform/api-error';
import {
  ApiAnswers,
  asPages,
  FAILURES,
  INVALID_FIELDS,
  LOCATION,
  STORE_BUSY,
} from '../platform/openapi/api-answers';
import { RateLimited } from '../platform/rate-limits/rate-limited.decorator';
import { RegisterUserDto } from './dto/register-user.dto';
import { PasswordChangedBody, PublicUserBody } from './dto/responses';
import { ChangePasswordDto } from './password/password.dto';
import { SESSION_COOKIE_SET_OR_CLEARED, SessionCookie } from './sessions/session-cookie';
import { CurrentSession, NOT_SIGNED_IN, SignedIn } from './sessions/session.guard';
import { type Session, SessionStore } from './sessions/session-store';
import {
  CHANGE_PASSWORD_FIELDS,
  changePasswordPage,
  homePage,
  REGISTER_FIELDS,
  registeredPage,
  signOutErrorPage,
} from './pages/account-pages';
import { answersWithPage, PAGE_OR_JSON } from './pages/answer-format';
import { TakesForms } from './pages/form-body.guard';
import { failedForm, fieldErrorsOf, withPasswordsDifferProblem } from './pages/form-state';
import { redirectToPage, sendPage } from './pages/page';
import { type ClientErrorPage, PagesFilter } from './pages/pages.filter';

/** The start page again with the sign-up's errors next to their fields (never the password). */
const registrationErrorPage: ClientErrorPage = (request, exception, { statusCode, code }) => {
  const errors =
    code === 'USERNAME_TAKEN'
      ? [{ field: 'username', messages: [USERNAME_TAKEN_PROBLEM] }]
      : fieldErrorsOf(exception);
  return homePage({
    status: statusCode,
    register: failedForm('register', REGISTER_FIELDS, errors, request.body, [
      'name',
      'username',
      'email',
    ]),
  });
};

export const USERNAME_TAKEN_PROBLEM = 'This username is taken. Please choose another one.';
export const WRONG_CURRENT_PASSWORD_PROBLEM = 'That is not your current password.';

/**
 * The change-password form again with its errors; without a session (401), the start
 * page, asking to sign in again; a form that could not be read, the start page saying so.
 */
const passwordChangeErrorPage: ClientErrorPage = (request, exception, { statusCode, code }) => {
  const session = (request as Request & { session?: Session }).session;
  // No session yet: refused by the session's check, or by the form's, which comes first.
  if (!session) return signOutErrorPage(request, exception, { statusCode });
  const errors =
    code === 'WRONG_PASSWORD'
      ? [{ field: 'currentPassword', messages: [WRONG_CURRENT_PASSWORD_PROBLEM] }]
      : withPasswordsDifferProblem(fieldErrorsOf(exception), 'newPasswordConfirmation');
  return changePasswordPage(
    session.username,
    statusCode,
    failedForm('password', CHANGE_PASSWORD_FIELDS, errors, request.body, []),
  );
};

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
    description: `Registers an account in status \`NONE\`; the activation mail with its link follows within seconds. ${PAGE_OR_JSON} Sign-up reveals no e-mail address: an active account's address is answered like a free one (nothing is stored; its owner gets a mail saying someone tried), a pending account's is taken over. Registering a pending username again with its own password updates it (a typo fix).`,
  })
  @ApiAnswers(
    {
      status: 201,
      json: PublicUserBody,
      page: true,
      description:
        'Registered as given, not active yet (the same answer for the address of an active account). A browser gets the "check your inbox" page.',
    },
    { ...INVALID_FIELDS, page: true },
    {
      status: 409,
      codes: ['USERNAME_TAKEN'],
      page: true,
      description:
        "The username is an active account's, or a pending account's with another password (`USERNAME_TAKEN`). A browser gets the start page again, the errors next to their fields.",
    },
    ...asPages([STORE_BUSY, ...FAILURES, { status: 429 }]),
  )
  @UseFilters(new PagesFilter(registrationErrorPage))
  // Guards run bottom-up: the media type, the form's body, then the limits.
  @RateLimited('register-address')
  @TakesForms()
  async register(
    @Body() body: RegisterUserDto,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const user = await this.registration.register(body);
    if (answersWithPage(request)) return sendPage(response, registeredPage(user));
    response.status(HttpStatus.CREATED).json(user);
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
    description: `Signed in: the current password, then the new one. Every session of the account ends; this client gets a fresh session and cookie, and the owner a "password changed" mail. Wrong current passwords count against the sign-in limits. ${PAGE_OR_JSON}`,
  })
  @ApiAnswers(
    {
      status: 200,
      json: PasswordChangedBody,
      description:
        'Changed. With `expiresAt`, this client has a fresh session (its cookie set); without it, the password changed again meanwhile and this client is signed out too (its cookie cleared).',
      headers: { 'Set-Cookie': SESSION_COOKIE_SET_OR_CLEARED },
    },
    {
      status: 303,
      description:
        "A browser's form: changed, as with 200, and sent on to the account page (`account?notice=password-changed`).",
      headers: { 'Set-Cookie': SESSION_COOKIE_SET_OR_CLEARED, Location: LOCATION },
    },
    {
      ...INVALID_FIELDS,
      page: true,
      description: `${INVALID_FIELDS.description} A browser gets the form again, the errors next to their fields.`,
    },
    {
      status: 401,
      page: true,
      description: 'A browser without a live session: the start page, asking to sign in again.',
    },
    {
      status: 403,
      codes: ['WRONG_PASSWORD'],
      page: true,
      description:
        'The current password is wrong (`WRONG_PASSWORD`); a browser gets the form again, saying so.',
    },
    ...asPages([STORE_BUSY, ...FAILURES, { status: 429 }]),
  )
  @UseFilters(new PagesFilter(passwordChangeErrorPage))
  // Guards run bottom-up: the media type, the form's body, the session, then the limits
  // (by its account).
  @RateLimited('login-account-address', 'login-account')
  @SignedIn()
  @TakesForms()
  async changePassword(
    @CurrentSession() session: Session,
    @Body() body: ChangePasswordDto,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const changed = await this.passwords.changeSignedIn(
      session.username,
      body.currentPassword,
      body.newPassword,
    );
    const fresh = await this.sessions.start({
      username: changed.user.username,
      passwordHash: changed.passwordHash,
    });
    // Undefined when the password changed again meanwhile (another tab, a reset): this
    // browser is signed out too.
    if (fresh) this.cookie.write(response, fresh.token, fresh.expiresAt);
    else this.cookie.clear(response);
    if (answersWithPage(request))
      return redirectToPage(response, 'account?notice=password-changed');
    response.status(HttpStatus.OK).json({
      user: changed.user,
      ...(fresh ? { expiresAt: fresh.expiresAt.toISOString() } : {}),
    });
  }
}
