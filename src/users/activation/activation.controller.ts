/**
 * The activation link in the browser: `GET /activate?username=&token=` shows a page with
 * an "Activate my account" button; the button's form posts to `POST /activate`, which
 * activates. JSON clients may post too.
 *
 * No CSRF token: the activation token in the body *is* the capability. A cross-site page
 * can only make someone's browser activate an account whose live token it already holds,
 * and whoever holds it can activate directly; no cookie or session is involved.
 */
import {
  Controller,
  Get,
  HttpStatus,
  Inject,
  Post,
  Body,
  Req,
  Res,
  UseFilters,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import {
  type Activation,
  AccountActivationService,
  InvalidCredentialsError,
  ActivationStatus,
  isWellFormedActivationToken,
  usernameProblems,
} from '../../activation';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import {
  ApiAnswers,
  asPages,
  FAILURES,
  INVALID_FIELDS,
  STORE_BUSY,
} from '../../platform/openapi/api-answers';
import { RateLimited } from '../../platform/rate-limits/rate-limited.decorator';
import { ActivationBody } from '../dto/responses';
import { SESSION_COOKIE_SET } from '../sessions/session-cookie';
import { ActivateAccountDto } from './activate-account.dto';
import {
  activatedPage,
  activationFormPage,
  alreadyActivePage,
  invalidLinkPage,
  WRONG_PASSWORD_PROBLEM,
} from './activation-pages';
import { sendPage, setPrivacyHeaders } from '../pages/page';
import { PagesFilter } from '../pages/pages.filter';
import { answersWithPage, LinkQuery, PAGE_OR_JSON } from '../pages/answer-format';
import { TakesForms } from '../pages/form-body.guard';
import { SessionCookie } from '../sessions/session-cookie';
import { SessionStore } from '../sessions/session-store';

export interface ActivationResult {
  readonly username: string;
  readonly activationStatus: typeof ActivationStatus.DONE;
  readonly alreadyActive: boolean;
}

@ApiTags('activation')
@Controller('activate')
@UseFilters(new PagesFilter(invalidLinkPage))
export class ActivationController {
  /** Path of the configured activation URL: where the page's form posts. */
  private readonly formAction: string;

  constructor(
    private readonly activation: AccountActivationService,
    private readonly sessions: SessionStore,
    private readonly cookie: SessionCookie,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.formAction = new URL(config.http.activationUrlBase).pathname;
  }

  /**
   * The page behind the mail's link. Reads nothing and writes nothing: mail scanners
   * fetch every link, and a lookup would tell them which accounts exist. A link that
   * cannot be one we sent (missing, repeated or malformed values) gets the invalid page.
   */
  @Get()
  @ApiOperation({
    operationId: 'showActivationPage',
    summary: "The activation link's page",
    description:
      'The page behind the link in the activation mail: a button (and the password field) that posts to `POST /activate`. Reads and changes nothing (mail scanners open links).',
  })
  @LinkQuery()
  @ApiAnswers(
    { status: 200, page: true, description: 'The page with the "Activate my account" button.' },
    {
      status: 400,
      page: true,
      description:
        'A link that cannot be one the API sent (a value missing, repeated or malformed): the "link not valid" page, with a form for a new mail.',
    },
  )
  show(@Req() request: Request, @Res() response: Response): void {
    const { username, token } = request.query;
    const wellFormed =
      typeof username === 'string' &&
      typeof token === 'string' &&
      usernameProblems(username).length === 0 &&
      isWellFormedActivationToken(token);
    sendPage(
      response,
      wellFormed ? activationFormPage(this.formAction, username, token) : invalidLinkPage(),
    );
  }

  /**
   * Activates with the link's token and the account's password, and signs the person in
   * (session cookie). 200 with a page (or `{username, activationStatus, alreadyActive}`
   * for JSON); an unknown user, a wrong or expired token is 400 ACTIVATION_LINK_INVALID,
   * the same for each; the live token with a wrong password is 401 INVALID_CREDENTIALS
   * (the page asks again; see PagesFilter). Password guesses here count against
   * the same limits as sign-in's.
   */
  @Post()
  @ApiOperation({
    operationId: 'activateAccount',
    summary: 'Activate an account',
    description: `Activates with the link's token and the account's password, and signs in (the session cookie). ${PAGE_OR_JSON} Wrong passwords count against the sign-in limits.`,
  })
  @ApiAnswers(
    {
      status: 200,
      json: ActivationBody,
      page: true,
      description: 'Active (now or before) and signed in.',
      headers: {
        'Set-Cookie': {
          ...SESSION_COOKIE_SET,
          required: false,
          description: `${SESSION_COOKIE_SET.description} Missing only when a password reset won a race with this activation.`,
        },
      },
    },
    INVALID_FIELDS,
    {
      status: 400,
      codes: ['ACTIVATION_LINK_INVALID'],
      page: true,
      description:
        'An unknown user, a wrong, used or expired token: one answer for each (`ACTIVATION_LINK_INVALID`). A browser gets the "link not valid" page for any client error.',
    },
    {
      status: 401,
      codes: ['INVALID_CREDENTIALS'],
      page: true,
      description:
        "The link's token with a wrong password (`INVALID_CREDENTIALS`); a browser gets the form again, saying so.",
    },
    STORE_BUSY,
    ...asPages([...FAILURES, { status: 429 }]),
  )
  // Guards run bottom-up: the media type, the form's body, then the limits (by username).
  @RateLimited('activate-address', 'activate-account', 'login-account-address', 'login-account')
  @TakesForms()
  async activate(
    @Body() body: ActivateAccountDto,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    let activation: Activation;
    try {
      activation = await this.activation.activate(body.username, body.token, body.password);
    } catch (error) {
      if (!(error instanceof InvalidCredentialsError) || !answersWithPage(request)) throw error;
      // The live token with a wrong password: the form again, saying so.
      sendPage(
        response,
        activationFormPage(this.formAction, body.username, body.token, WRONG_PASSWORD_PROBLEM),
      );
      return;
    }
    const { outcome, user } = activation;
    const alreadyActive = outcome === 'ALREADY_ACTIVE';
    // Undefined only when a password reset won a race with this activation: no session.
    const session = await this.sessions.start({
      username: user.username,
      passwordHash: activation.passwordHash,
    });
    if (session) this.cookie.write(response, session.token, session.expiresAt);
    if (!answersWithPage(request)) {
      setPrivacyHeaders(response);
      const result: ActivationResult = {
        username: body.username,
        activationStatus: ActivationStatus.DONE,
        alreadyActive,
      };
      response.status(HttpStatus.OK).json(result);
      return;
    }
    sendPage(
      response,
      alreadyActive ? alreadyActivePage(body.username) : activatedPage(body.username),
    );
  }
}
