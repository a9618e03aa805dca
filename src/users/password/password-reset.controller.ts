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
import {
  Body,
  Controller,
  Get,
  HttpStatus,
  Post,
  Req,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import {
  InvalidUserInputError,
  isWellFormedActivationToken,
  PasswordChangeService,
  PasswordResetRequestService,
  usernameProblems,
} from '../../activation';
import { ApiException } from '../../platform/api-error';
import { Accepts } from '../../platform/json-body.guard';
import { RateLimited } from '../../platform/rate-limits/rate-limited.decorator';
import { type Page, sendPage, setPrivacyHeaders } from '../activation/activation-pages';
import { ActivationPagesFilter } from '../activation/activation-pages.filter';
import { answersWithJson, sendAccepted } from '../activation/answer-format';
import { FormBodyGuard } from '../activation/form-body.guard';
import { AccountIdentifierDto, accountIdentifierOf } from '../dto/account-identifier.dto';
import {
  INVALID_ADDRESS_PROBLEM,
  invalidResetLinkPage,
  newPasswordFormPage,
  PASSWORDS_DIFFER_PROBLEM,
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
  const errors =
    exception instanceof ApiException || exception instanceof InvalidUserInputError
      ? (exception.errors ?? [])
      : [];
  const passwordOnly =
    errors.length > 0 &&
    errors.every((error) => error.field === 'password' || error.field === 'passwordConfirmation');
  if (!link || !passwordOnly) return invalidResetLinkPage();
  const problem = errors.some((error) => error.field === 'passwordConfirmation')
    ? PASSWORDS_DIFFER_PROBLEM
    : errors.flatMap((error) => error.messages).join(' ');
  return newPasswordFormPage(link[0], link[1], problem);
}

@Controller('password-reset')
export class PasswordResetController {
  constructor(
    private readonly requests: PasswordResetRequestService,
    private readonly passwords: PasswordChangeService,
  ) {}

  @Get()
  showRequestForm(@Res() response: Response): void {
    sendPage(response, passwordResetRequestPage());
  }

  @Post()
  @UseFilters(new ActivationPagesFilter(() => passwordResetRequestPage(INVALID_ADDRESS_PROBLEM)))
  // Guards run bottom-up: the media type, the form's body, then the limits (by identifier).
  @RateLimited('mail-address', 'mail-cooldown', 'mail-daily')
  @UseGuards(FormBodyGuard)
  @Accepts('application/x-www-form-urlencoded', 'application/json')
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
  @UseFilters(new ActivationPagesFilter(invalidResetLinkPage))
  showNewPasswordForm(@Req() request: Request, @Res() response: Response): void {
    const link = wellFormedLink(request.query.username, request.query.token);
    sendPage(response, link ? newPasswordFormPage(link[0], link[1]) : invalidResetLinkPage());
  }

  @Post('new')
  @UseFilters(new ActivationPagesFilter(resetErrorPage))
  @RateLimited('password-reset-address', 'password-reset-account')
  @UseGuards(FormBodyGuard)
  @Accepts('application/x-www-form-urlencoded', 'application/json')
  async reset(
    @Body() body: ResetPasswordDto,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    if (body.passwordConfirmation !== undefined && body.passwordConfirmation !== body.password) {
      throw new ApiException(
        HttpStatus.BAD_REQUEST,
        'VALIDATION_FAILED',
        'The request has invalid fields.',
        [{ field: 'passwordConfirmation', messages: ['passwordConfirmation must equal password'] }],
      );
    }
    const user = await this.passwords.reset(body.username, body.token, body.password);
    if (answersWithJson(request)) {
      setPrivacyHeaders(response);
      response.status(HttpStatus.OK).json({ username: user.username, passwordChanged: true });
      return;
    }
    sendPage(response, passwordChangedPage(user.username));
  }
}
