/**
 * "Send me a new activation mail": `POST /activation-mail` with `{"email"}` or
 * `{"username"}` (JSON, or the form on the "link not valid" page). Always `202` with the
 * same body (or page), whether the account exists, is pending, or is already active: a
 * pending account gets a new activation mail (every older link dies), an active one an
 * "already active" notice, anything else nothing. The mail goes through the pipeline: the
 * request is a write to the account's item. `GET /activation-mail` is the form on its own
 * (linked from the start page).
 */
import { Body, Controller, Get, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ActivationMailRequestService } from '../../activation';
import { ApiAnswers, asPages, FAILURES, INVALID_FIELDS } from '../../platform/openapi/api-answers';
import { RequestAcceptedBody } from '../dto/responses';
import { AccountIdentifierDto, accountIdentifierOf } from '../dto/account-identifier.dto';
import { RateLimited } from '../../platform/rate-limits/rate-limited.decorator';
import {
  activationMailRequestedPage,
  INVALID_IDENTIFIER_PROBLEM,
  resendFormPage,
} from './activation-pages';
import { PagesFilter } from '../pages/pages.filter';
import { sendPage } from '../pages/page';
import { addressProblem } from '../pages/form-state';
import { PAGE_OR_JSON, sendAccepted } from '../pages/answer-format';
import { TakesForms } from '../pages/form-body.guard';

/** The one answer of `POST /activation-mail`, whatever the account. */
export const ACTIVATION_MAIL_REQUESTED = {
  message:
    'If an account with this e-mail address or username is waiting for activation, a new activation mail is on its way; only the link in the newest mail works. An account that is already active gets a mail saying so.',
} as const;

export const ACTIVATION_MAIL_PATH = 'activation-mail';

@ApiTags('activation')
@Controller(ACTIVATION_MAIL_PATH)
// A form that fails validation is shown again, saying so; any other error as on /activate.
@UseFilters(
  new PagesFilter((_request, error) =>
    resendFormPage(addressProblem(error, INVALID_IDENTIFIER_PROBLEM)),
  ),
)
export class ActivationMailController {
  constructor(private readonly requests: ActivationMailRequestService) {}

  @Get()
  @ApiOperation({
    operationId: 'showActivationMailPage',
    summary: 'The "no activation mail?" page',
    description: 'A form for the e-mail address, posting to `POST /activation-mail`.',
  })
  @ApiAnswers({ status: 200, page: true, description: 'The form.' })
  showRequestForm(@Res() response: Response): void {
    sendPage(response, resendFormPage());
  }

  @Post()
  @ApiOperation({
    operationId: 'requestActivationMail',
    summary: 'Ask for a new activation mail',
    description: `By e-mail address or username. A pending account gets a new activation mail (every older link dies), an active one a mail saying it is active, anything else nothing; the answer is the same for all. The "link not valid" page's form posts here. ${PAGE_OR_JSON}`,
  })
  @ApiAnswers(
    {
      status: 202,
      json: RequestAcceptedBody,
      page: true,
      description: 'Taken: the same answer whatever the account ("check your inbox").',
    },
    { ...INVALID_FIELDS, page: true },
    ...asPages([...FAILURES, { status: 429 }]),
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
    sendAccepted(request, response, ACTIVATION_MAIL_REQUESTED, activationMailRequestedPage());
  }
}
