import { applyDecorators, HttpStatus } from '@nestjs/common';
import { ApiQuery } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { type Page, sendPage, setPrivacyHeaders } from './page';

/** How a route that serves both a browser's form and a program picks its answer (OpenAPI). */
export const PAGE_OR_JSON =
  'A browser (a form post, not asking for JSON) gets HTML pages; a client that sends JSON, or asks for it (`Accept: application/json`), gets JSON.';

/** The query of a link from a mail, `?username=…&token=…` (OpenAPI). */
export const LinkQuery = () =>
  applyDecorators(
    ApiQuery({ name: 'username', required: true, schema: { type: 'string' } }),
    ApiQuery({ name: 'token', required: true, schema: { type: 'string' } }),
  );

const FORM = 'application/x-www-form-urlencoded';

/**
 * Whether a request is answered with a page: a GET (a link, an address typed) always; a
 * POST when it is a form (what a page's form sends), unless it asks for JSON
 * (`Accept: application/json`). Any other POST, a JSON body, no body or another media type
 * (which gets the API's 415), is answered with JSON.
 */
export function answersWithPage(request: Request): boolean {
  if (request.method === 'GET' || request.method === 'HEAD') return true;
  return (
    Boolean(request.is(FORM)) &&
    request.accepts(['text/html', 'application/json']) !== 'application/json'
  );
}

/** `202` with `json` for a JSON client, else `page`; the same privacy headers either way. */
export function sendAccepted(request: Request, response: Response, json: object, page: Page): void {
  if (answersWithPage(request)) return sendPage(response, page);
  setPrivacyHeaders(response);
  response.status(HttpStatus.ACCEPTED).json(json);
}
