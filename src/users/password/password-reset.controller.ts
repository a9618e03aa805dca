/**
 * The password reset by mail (OWASP Forgot Password Cheat Sheet):
 *
 * - `GET /password-reset`: the request form.
 * - `POST /password-reset` with `{"email"}` or `{"username"}` (JSON, or the form): always
 *   `202` with the same body (or page). A live account gets a reset mail through the
 *   pipeline (every older reset link dies); no account gets nothing. Limited by the mail
 *   budget it shares with resend.
 * - `GET /password-reset/new?username=…&token=…`: the link's page, a form for the new
 *   password twice. Reads and changes nothing.
 * - `POST /password-reset/new` with `username`, `token`, `password` (and the form's
 *   `passwordConfirmation`): sets the password, ends every session, kills every reset and
 *   activation token, activates a pending account, and asks for the "password changed"
 *   notice. Nobody is signed in: the page sends the person to sign in. A wrong, used or
 *   expired link is one 400 PASSWORD_RESET_LINK_INVALID (or one page, with the request
 *   form again).
 */
import { Body, Controller, Get, HttpStatus, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import {
  isWellFormedActivationToken,
  PasswordChangeService,
  PasswordResetRequestService,
  usernameProblems,
} from '../../activation';
import {
  ApiAnswers,
  asPages,
  FAILURES,
  INVALID_FIELDS,
  STORE_BUSY,
} from '../../platform/openapi/api-answers';
import { RateLimited } from '../../platform/rate-limits/rate-limited.decorator';
import { type Page, sendPage, setPrivacyHeaders } from '../pages/page';
import {
  addressProblem,
  failedForm,
  fieldErrorsOf,
  withPasswordsDifferProblem,
} from '../pages/form-state';
import { PagesFilter } from '../pages/pages.filter';
import { answersWithPage, LinkQuery, PAGE_OR_JSON, sendAccepted } from '../pages/answer-format';
import { TakesForms } from '../pages/form-body.guard';
import { AccountIdentifierDto, accountIdentifierOf } from '../dto/account-identifier.dto';
import { PasswordResetBody, RequestAcceptedBody } from '../dto/responses';
import {
  INVALID_ADDRESS_PROBLEM,
  invalidResetLinkPage,
  newPasswordFormPage,
  passwordChangedPage,
  passwordResetRequestedPage,
  passwordResetRequestPage,
} from './password-pages';
import { ResetPasswordDto } from './password.dto';

/** The one answer of `POST /password-reset`, whatever the account. */
export const PASSWORD_RESET_REQUESTED = {
  message:
    'If an account has this e-mail address or username, a mail with a link to choose a new password is on its way. The link works for a limited time, once; only the newest one works.',
} as const;

const wellFormedLink = (username: unknown, token: unknown): [string, string] | undefined =>
  typeof username === 'string' &&
  typeof token === 'string' &&
  usernameProblems(username).length === 0 &&
  isWellFormedActivationToken(token)
    ? [username, token]
    : undefined;

/**
 * A browser's 4xx on the new-password form: the form again with the problem when only
 * the new password was wrong (too short, the two differ) on a link that looks like ours;
 * otherwise the one invalid-link page.
 */
function resetErrorPage(request: Request, exception: unknown): Page {
  const body = (request.body ?? {}) as Record<string, unknown>;
  const link = wellFormedLink(body.username, body.token);
  const errors = fieldErrorsOf(exception);
  const passwordOnly =
    errors.length > 0 && errors.every((error) => Object.hasOwn(NEW_PASSWORD_FIELDS, error.field));
  if (!link || !passwordOnly) return invalidResetLinkPage();
  const shown = withPasswordsDifferProblem(errors, 'passwordConfirmation');
  return newPasswordFormPage(
    link[0],
    link[1],
    failedForm('new-password', NEW_PASSWORD_FIELDS, shown, body, []),
  );
}

/** The fields of the new-password form, with their labels. */
const NEW_PASSWORD_FIELDS = {
  password: 'New password',
  passwordConfirmation: 'The new password again',
} as const;

@ApiTags('password')
@Controller('password-reset')
export class PasswordResetController {
  constructor(
    private readonly requests: PasswordResetRequestService,
    private readonly passwords: PasswordChangeService,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'showPasswordResetPage',
    summary: 'The "forgot your password?" page',
    description: 'A form for the e-mail address, posting to `POST /password-reset`.',
  })
  @ApiAnswers({ status: 200, page: true, description: 'The form.' })
  showRequestForm(@Res() response: Response): void {
    sendPage(response, passwordResetRequestPage());
  }

  @Post()
  @ApiOperation({
    operationId: 'requestPasswordReset',
    summary: 'Ask for a password-reset mail',
    description: `By e-mail address or username. A live account gets a mail with a reset link (every older one dies), anything else nothing; the answer is the same for all. ${PAGE_OR_JSON}`,
  })
  @ApiAnswers(
    {
      status: 202,
      json: RequestAcceptedBody,
      page: true,
      description: 'Taken: the same answer whatever the account ("check your inbox").',
    },
    {
      ...INVALID_FIELDS,
      page: true,
      description: `${INVALID_FIELDS.description} A browser gets the form again, saying so.`,
    },
    ...asPages([...FAILURES, { status: 429 }]),
  )
  @UseFilters(
    new PagesFilter((_request, error) =>
      passwordResetRequestPage(addressProblem(error, INVALID_ADDRESS_PROBLEM)),
    ),
  )
  // Guards run bottom-up: the media type, the form's body, then the limits (by identifier).
  @RateLimited('mail-address', 'mail-cooldown', 'mail-daily')
  @TakesForms()
  async request(
    @Body() body: AccountIdentifierDto,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    await this.requests.request(accountIdentifierOf(body));
    sendAccepted(request, response, PASSWORD_RESET_REQUESTED, passwordResetRequestedPage());
  }

  /** The link's page: reads nothing, writes nothing (mail scanners fetch every link). */
  @Get('new')
  @ApiOperation({
    operationId: 'showNewPasswordPage',
    summary: "The reset link's page",
    description:
      'The page behind the link in the reset mail: the new password, twice, posting to `POST /password-reset/new`. Reads and changes nothing.',
  })
  @LinkQuery()
  @ApiAnswers(
    { status: 200, page: true, description: 'The form for the new password.' },
    {
      status: 400,
      page: true,
      description:
        'A link that cannot be one the API sent: the "link not valid" page, with the request form again.',
    },
  )
  @UseFilters(new PagesFilter(invalidResetLinkPage))
  showNewPasswordForm(@Req() request: Request, @Res() response: Response): void {
    const link = wellFormedLink(request.query.username, request.query.token);
    sendPage(response, link ? newPasswordFormPage(link[0], link[1]) : invalidResetLinkPage());
  }

  @Post('new')
  @ApiOperation({
    operationId: 'resetPassword',
    summary: 'Set a new password with a reset link',
    description: `Sets the password, ends every session of the account, kills every reset and activation link, activates a pending account and sends a "password changed" mail. Nobody is signed in: sign in with the new password. ${PAGE_OR_JSON}`,
  })
  @ApiAnswers(
    {
      status: 200,
      json: PasswordResetBody,
      page: true,
      description: 'The password is set.',
    },
    { ...INVALID_FIELDS, page: true },
    {
      status: 400,
      codes: ['PASSWORD_RESET_LINK_INVALID'],
      description:
        'An unknown user, a wrong, used or expired token: one answer for each (`PASSWORD_RESET_LINK_INVALID`). A browser gets the "link not valid" page, or the form again when only the new password was wrong.',
    },
    STORE_BUSY,
    ...asPages([...FAILURES, { status: 429 }]),
  )
  @UseFilters(new PagesFilter(resetErrorPage))
  @RateLimited('password-reset-address', 'password-reset-account')
  @TakesForms()
  async reset(
    @Body() body: ResetPasswordDto,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const user = await this.passwords.reset(body.username, body.token, body.password);
    if (!answersWithPage(request)) {
      setPrivacyHeaders(response);
      response.status(HttpStatus.OK).json({ username: user.username, passwordChanged: true });
      return;
    }
    sendPage(response, passwordChangedPage(user.username));
  }
}
