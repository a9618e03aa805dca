/**
 * The HTML pages: server-rendered with Eta from the templates in `web/views`, one layout,
 * one stylesheet (`web/site.css`, served by SiteAssetsController), no script and no inline
 * style, so the pages' Content-Security-Policy allows only the stylesheet of this origin.
 *
 * Every value is escaped when it is written (`<%= %>`, with the core's escapeHtml; ADR
 * 0004); the raw tag `<%~ %>` is used only for the layout's body and for includes, which
 * are themselves escaped templates.
 *
 * Every link, form action and the stylesheet are relative to the app's root, as seen from
 * the page's own path (`root`: `./`, `../`, ...), so a deployment under a path prefix (an
 * API Gateway stage) that this app never sees still links right.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { Response } from 'express';
import { Eta } from 'eta';
import { escapeHtml } from '../../activation';

/**
 * The templates and the stylesheet. Beside this file in src/ and, copied by the build,
 * in dist/ (nest-cli.json assets) and beside the API's Lambda bundle (infra/lambda-bundling.ts).
 */
export const WEB_DIRECTORY = join(__dirname, 'web');

/** An HTML page to send: a template of `web/views`, its data, and the answer's status. */
export interface Page {
  readonly status: number;
  readonly view: string;
  readonly title: string;
  readonly data?: object;
}

const eta = new Eta({
  views: join(WEB_DIRECTORY, 'views'),
  autoEscape: true,
  escapeFunction: (value: unknown) => escapeHtml(String(value)),
  // The newline after a tag goes (Eta's default), so control tags leave no blank lines.
  autoTrim: [false, 'nl'],
  cache: true,
});

/** The stylesheet, read once: its bytes and a content hash for its URL and ETag. */
export const STYLESHEET = (() => {
  const body = readFileSync(join(WEB_DIRECTORY, 'site.css'), 'utf8');
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 16);
  return { body, hash, path: `assets/site.css?v=${hash}` } as const;
})();

/**
 * Nothing may load or run but the stylesheet of this origin; forms post only to this
 * origin; no site may frame a page (a button must not be clickjacked). No
 * upgrade-insecure-requests: in local mode the site is plain http, and upgrading a form's
 * target would break it (https deployments have HSTS from helmet instead).
 */
export const PAGE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "style-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/**
 * The app's root relative to `path` (the request's path without its query): `./` for
 * `/` and `/account`, `../` for `/password-reset/new`, `../../` for `/users/me/password`.
 */
export function relativeRoot(path: string): string {
  const depth = path.split('/').length - 2;
  return depth <= 0 ? './' : '../'.repeat(depth);
}

/** The page as a document, its links relative to `root`. */
export function renderPage(page: Page, root = './'): string {
  return eta.render(page.view, {
    ...page.data,
    title: page.title,
    root,
    stylesheet: `${root}${STYLESHEET.path}`,
  });
}

/**
 * Headers of every answer of the page routes, HTML or JSON. Links from mails carry a live
 * token in their query, and pages show an account: never cache them, never leak a
 * Referer, never index them.
 */
export function setPrivacyHeaders(response: Response): void {
  response.setHeader('Cache-Control', 'no-store');
  response.setHeader('Referrer-Policy', 'no-referrer');
  response.setHeader('X-Robots-Tag', 'noindex, nofollow');
}

export function sendPage(response: Response, page: Page): void {
  setPrivacyHeaders(response);
  response.setHeader('Content-Security-Policy', PAGE_CONTENT_SECURITY_POLICY);
  response.setHeader('Content-Type', 'text/html; charset=utf-8');
  response.status(page.status).send(renderPage(page, relativeRoot(response.req.path)));
}

/**
 * After a form post that worked: `303 See Other` to a page (relative to the app's root),
 * so that reloading it does not post the form again.
 */
export function redirectToPage(response: Response, target: string): void {
  setPrivacyHeaders(response);
  // No body: Express's redirect would add a small one in whatever type the client accepts.
  response
    .status(303)
    .location(`${relativeRoot(response.req.path)}${target}`)
    .end();
}
