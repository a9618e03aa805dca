import { applyDecorators, HttpStatus } from '@nestjs/common';
import { ApiQuery } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { type Page, sendPage, setPrivacyHeaders } from './activation-pages';

/** How a route that serves both a browser's form and a program picks its answer (OpenAPI). */
export const PAGE_OR_JSON =
  'A browser (a form post or no body, not asking for JSON) gets HTML pages; a client that sends JSON or asks for it (`Accept: application/json`) gets JSON.';

/** The query of a link from a mail, `?username=…&token=…` (OpenAPI). */
export const LinkQuery = () =>
  applyDecorators(
    ApiQuery({ name: 'username', required: true, schema: { type: 'string' } }),
    ApiQuery({ name: 'token', required: true, schema: { type: 'string' } }),
  );

const FORM = 'application/x-www-form-urlencoded';

/**
 * Whether an activation request is answered with JSON: when the body was JSON, or when
 * the client prefers application/json to text/html (`Accept: application/json`). A
 * browser's form post (or a plain `curl -X POST`) gets pages.
 */
export function answersWithJson(request: Request): boolean {
  return (
    Boolean(request.is('application/json')) ||
    request.accepts(['text/html', 'application/json']) === 'application/json'
  );
}

/**
 * Whether an error of an activation request is shown as a page: always for the link
 * (GET), and for a POST that a page could have sent (a form body or none) by a client
 * that does not ask for JSON. Any other body (text/plain, XML, ...) gets the API's JSON
 * error, such as its 415.
 */
export function answersErrorsWithPage(request: Request): boolean {
  if (request.method === 'GET' || request.method === 'HEAD') return true;
  return !answersWithJson(request) && request.is(FORM) !== false;
}

/** `202` with `json` for a JSON client, else `page`; the same privacy headers either way. */
export function sendAccepted(request: Request, response: Response, json: object, page: Page): void {
  if (!answersWithJson(request)) return sendPage(response, page);
  setPrivacyHeaders(response);
  response.status(HttpStatus.ACCEPTED).json(json);
}
