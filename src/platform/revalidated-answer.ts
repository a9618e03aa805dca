/**
 * Answers that a browser may keep and revalidate, unlike every other (no-store): the
 * OpenAPI document, Swagger UI and the pages' stylesheet.
 */
import { createHash } from 'node:crypto';
import type { Response } from 'express';

/**
 * Sends `body` for revalidation: `no-cache` (or `cacheControl`) with a strong ETag of its bytes; Express answers
 * 304 to a matching `If-None-Match` (the app's own ETags are off, see app.setup.ts).
 */
export function sendRevalidated(
  response: Response,
  type: string,
  body: string,
  cacheControl = 'no-cache',
): void {
  response.setHeader('Cache-Control', cacheControl);
  response.setHeader('ETag', etagOf(body));
  response.type(type).send(body);
}

/** The ETag of each body sent so far: hashed once (Swagger UI's bundle is ~1.5 MB), not per request. */
const ETAGS = new Map<string, string>();
function etagOf(body: string): string {
  let etag = ETAGS.get(body);
  if (etag === undefined) {
    etag = `"${createHash('sha256').update(body, 'utf8').digest('base64url')}"`;
    ETAGS.set(body, etag);
  }
  return etag;
}

export const NOT_MODIFIED = {
  status: 304,
  description: 'Unchanged since the copy the client has (`If-None-Match` or `If-Modified-Since`).',
} as const;

export const VALIDATOR = {
  ETag: {
    description: 'For revalidation (`If-None-Match`).',
    required: true,
    schema: { type: 'string' },
  },
} as const;
