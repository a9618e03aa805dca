/**
 * `GET /activate/?u=…` is the page of `GET /activate?u=…` to Express, but a relative link
 * or form action on it (`activation-mail`) then resolves one level too deep. A page read
 * with one trailing slash is sent, 308, to the same path without it. The Location is
 * relative (`../activate?…`), so it holds under any path prefix the deployment adds
 * (an API Gateway stage) that this app never sees.
 */
import type { NextFunction, Request, Response } from 'express';

/** A last path segment of plain URL characters, then one slash. */
const ONE_TRAILING_SLASH = /\/([\w.~%-]+)\/$/;

export function dropTrailingSlash(request: Request, response: Response, next: NextFunction): void {
  const match = ONE_TRAILING_SLASH.exec(request.path);
  if ((request.method !== 'GET' && request.method !== 'HEAD') || !match) return next();
  const queryStart = request.originalUrl.indexOf('?');
  const search = queryStart === -1 ? '' : request.originalUrl.slice(queryStart);
  response.redirect(308, `../${match[1]}${search}`);
}
