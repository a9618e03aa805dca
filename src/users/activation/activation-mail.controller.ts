/**
 * "Send me a new activation mail": `POST /activation-mail` with `{"email"}` or
 * `{"username"}` (JSON, or the form on the "link not valid" page). Always `202` with the
 * same body (or page), whether the account exists, is pending, or is already active: a
 * pending account gets a new activation mail (every older link dies), an active one an
 * "already active" notice, anything else nothing. The mail goes through the pipeline: the
 * request is a write to the account's item.
 */
import { Body, Controller, Post, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ActivationMailRequestService } from '../../activation';
import { Accepts } from '../../platform/json-body.guard';
import { AccountIdentifierDto, accountIdentifierOf } from '../dto/account-identifier.dto';
import { RateLimited } from '../../platform/rate-limits/rate-limited.decorator';
import {
  activationMailRequestedPage,
  INVALID_IDENTIFIER_PROBLEM,
  resendFormPage,
} from './activation-pages';
import { ActivationPagesFilter } from './activation-pages.filter';
import { sendAccepted } from './answer-format';
import { FormBodyGuard } from './form-body.guard';

/** The one answer of `POST /activation-mail`, whatever the account. */
export const ACTIVATION_MAIL_REQUESTED = {
  message:
    'If an account with this e-mail address or username is waiting for activation, a new activation mail is on its way; only the link in the newest mail works. An account that is already active gets a mail saying so.',
} as const;

export const ACTIVATION_MAIL_PATH = 'activation-mail';

@Controller(ACTIVATION_MAIL_PATH)
// A form that fails validation is shown again, saying so; any other error as on /activate.
@UseFilters(new ActivationPagesFilter(() => resendFormPage(INVALID_IDENTIFIER_PROBLEM)))
export class ActivationMailController {
  constructor(private readonly requests: ActivationMailRequestService) {}

  @Post()
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
    sendAccepted(request, response, ACTIVATION_MAIL_REQUESTED, activationMailRequestedPage());
  }
}
