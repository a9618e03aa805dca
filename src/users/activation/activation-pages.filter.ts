/**
 * Errors of the activation routes. A browser gets a page: any client error (malformed
 * or oversized form, missing fields, unknown user, wrong or expired token) is the one
 * "link not valid or expired" page with 400, so nothing tells those cases apart; too
 * many attempts (429) is a page that says how long to wait; a
 * failure on our side is a "try again" page with the status the API would give (503 when
 * DynamoDB is unavailable). A JSON client gets the API's usual error shape.
 */
import { type ArgumentsHost, Catch, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiErrorsFilter } from '../../platform/api-errors.filter';
import { answersErrorsWithPage } from './answer-format';
import {
  invalidLinkPage,
  type Page,
  sendPage,
  setPrivacyHeaders,
  tooManyAttemptsPage,
  unavailablePage,
} from './activation-pages';

@Catch()
export class ActivationPagesFilter extends ApiErrorsFilter {
  private readonly pageLogger = new Logger(ActivationPagesFilter.name);

  /**
   * `clientErrorPage`: what a browser sees for any 4xx but 429 (by default the invalid-link
   * page), given the request and the error.
   */
  constructor(
    private readonly clientErrorPage: (
      request: Request,
      exception: unknown,
    ) => Page = invalidLinkPage,
  ) {
    super();
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    setPrivacyHeaders(response);
    if (!answersErrorsWithPage(request)) {
      super.catch(exception, host);
      return;
    }
    if (response.headersSent) return;
    const { statusCode, code } = this.toBody(exception);
    if (statusCode === 429) {
      // The rate limit's guard has set Retry-After.
      sendPage(response, tooManyAttemptsPage(Number(response.getHeader('Retry-After')) || 60));
      return;
    }
    if (statusCode < 500) {
      sendPage(response, this.clientErrorPage(request, exception));
      return;
    }
    this.pageLogger.error({ err: exception, code }, 'activation request failed');
    sendPage(response, unavailablePage(statusCode));
  }
}
