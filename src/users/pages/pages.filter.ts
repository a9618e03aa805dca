/**
 * Errors of the routes that serve pages. A browser gets a page: a client error is the
 * page the route chooses (its form again with the errors, or for a link the one "link not
 * valid or expired" page, so that nothing tells a link's failures apart); too many attempts (429) is a page that says how
 * long to wait; a form from another site (403 CROSS_SITE_REQUEST) says it was refused; a
 * failure on our side is a "try again" page with the status the API would give (503 when
 * DynamoDB is unavailable). A JSON client gets the API's usual error shape.
 */
import { type ArgumentsHost, Catch, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiErrorsFilter } from '../../platform/api-errors.filter';
import { CROSS_SITE_REQUEST } from '../../platform/same-origin.guard';
import { answersWithPage } from './answer-format';
import { crossSitePage, tooManyAttemptsPage, unavailablePage } from './common-pages';
import { type Page, sendPage, setPrivacyHeaders } from './page';

/**
 * What a browser sees for a client error of a route, given the request, the error and the
 * status and code the API would answer with.
 */
export type ClientErrorPage = (
  request: Request,
  exception: unknown,
  answer: { readonly statusCode: number; readonly code: string },
) => Page;

@Catch()
export class PagesFilter extends ApiErrorsFilter {
  private readonly pageLogger = new Logger(PagesFilter.name);

  constructor(private readonly clientErrorPage: ClientErrorPage) {
    super();
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    setPrivacyHeaders(response);
    if (!answersWithPage(request)) {
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
    if (code === CROSS_SITE_REQUEST) {
      sendPage(response, crossSitePage());
      return;
    }
    if (statusCode < 500) {
      // A form that could not be read (too large, too many fields, an unknown charset) is
      // a 400 to a person, like any other form they must send again: the page says so.
      const pageStatus = statusCode === 413 || statusCode === 415 ? 400 : statusCode;
      sendPage(
        response,
        this.clientErrorPage(request, exception, { statusCode: pageStatus, code }),
      );
      return;
    }
    this.pageLogger.error({ err: exception, code }, 'page request failed');
    sendPage(response, unavailablePage(statusCode));
  }
}
