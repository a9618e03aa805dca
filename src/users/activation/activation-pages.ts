/**
 * The HTML pages of the activation link: small, self-contained documents (no scripts, no
 * external assets, one inline style allowed by its hash). Everything that came from a
 * request is escaped with the core's escapeHtml, and the pages carry their own, stricter
 * Content-Security-Policy than the API's default.
 */
import { createHash } from 'node:crypto';
import type { Response } from 'express';
import { escapeHtml } from '../../activation';

export const ACTIVATE_BUTTON_LABEL = 'Activate my account';

const STYLE = [
  'body{margin:0;background:#f3f4f6;color:#1f2933;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}',
  'main{max-width:34rem;margin:12vh auto;padding:2rem 2.25rem;background:#fff;border-radius:10px;box-shadow:0 1px 4px rgba(0,0,0,.12)}',
  'h1{margin:0 0 1rem;font-size:1.45rem;line-height:1.25}',
  'p{margin:0 0 1rem}',
  'main>:last-child{margin-bottom:0}',
  'a{color:#1d4ed8}',
  'a:focus-visible{outline:3px solid #93c5fd;outline-offset:2px}',
  'button{font:inherit;font-weight:600;padding:.65rem 1.4rem;border:0;border-radius:6px;background:#1d4ed8;color:#fff;cursor:pointer}',
  'button:hover{background:#1e40af}',
  'button:focus-visible{outline:3px solid #93c5fd;outline-offset:2px}',
  'code{font-size:.95em}',
  'label{display:block;margin:0 0 .35rem;font-weight:600}',
  'input[type=password],input[type=email]{box-sizing:border-box;width:100%;margin:0 0 1.25rem;padding:.6rem .75rem;font:inherit;border:1px solid #9aa5b1;border-radius:6px}',
  'input[type=password]:focus-visible,input[type=email]:focus-visible{outline:3px solid #93c5fd;outline-offset:1px}',
  'h2{margin:1.75rem 0 .75rem;font-size:1.15rem}',
  '.problem{padding:.6rem .8rem;border-radius:6px;background:#fef2f2;color:#991b1b}',
  '.brand{margin:0 0 1.5rem;color:#52606d;font-size:.9rem;letter-spacing:.04em;text-transform:uppercase}',
].join('');

const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE, 'utf8').digest('base64')}'`;

/**
 * Nothing may load or run but the one inline style; the form may post only to this origin;
 * no site may frame the page (the button must not be clickjacked). No
 * upgrade-insecure-requests: in local mode the site is plain http, and upgrading the
 * form's target would break it (https deployments have HSTS from helmet instead).
 */
export const PAGE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src ${STYLE_HASH}`,
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/**
 * Headers of every answer of the activation routes, HTML or JSON. The link carries a
 * live token in its query: never cache it, never leak it in a Referer, never index it.
 */
export function setPrivacyHeaders(response: Response): void {
  response.setHeader('Cache-Control', 'no-store');
  response.setHeader('Referrer-Policy', 'no-referrer');
  response.setHeader('X-Robots-Tag', 'noindex, nofollow');
}

/** An HTML page to send; `body` is markup built in this file, with every value escaped. */
export interface Page {
  readonly status: number;
  readonly title: string;
  readonly body: string;
}

export function renderPage(page: Page): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${escapeHtml(page.title)} · Digital Card Store</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<p class="brand">Digital Card Store</p>
${page.body}
</main>
</body>
</html>
`;
}

export function sendPage(response: Response, page: Page): void {
  setPrivacyHeaders(response);
  response.setHeader('Content-Security-Policy', PAGE_CONTENT_SECURITY_POLICY);
  response.setHeader('Content-Type', 'text/html; charset=utf-8');
  response.status(page.status).send(renderPage(page));
}

/**
 * The page behind the mail's link. It only shows a button: mail scanners fetch every
 * link, so the GET must not activate anything. `action` is the path of the configured
 * activation URL, so a deployment under a path prefix posts to the right place.
 */
export function activationFormPage(
  action: string,
  username: string,
  token: string,
  problem?: string,
): Page {
  return {
    status: problem ? 401 : 200,
    title: 'Activate your account',
    body: `<h1>Activate your account</h1>
<p>You are about to activate the account <strong>${escapeHtml(username)}</strong>. Enter the password you chose when you registered.</p>
${
  problem
    ? `<p class="problem" role="alert">${escapeHtml(problem)}</p>
`
    : ''
}<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="username" value="${escapeHtml(username)}">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<label for="password">Password</label>
<input id="password" type="password" name="password" autocomplete="current-password" required maxlength="1024">
<button type="submit">${ACTIVATE_BUTTON_LABEL}</button>
</form>`,
  };
}

/** The message the form shows again after a wrong password. */
export const WRONG_PASSWORD_PROBLEM = 'That is not the password of this account. Please try again.';

export function activatedPage(username: string): Page {
  return {
    status: 200,
    title: 'Your account is active',
    body: `<h1>Your account is active</h1>
<p>The account <strong>${escapeHtml(username)}</strong> is activated, and you are signed in.</p>`,
  };
}

export function alreadyActivePage(username: string): Page {
  return {
    status: 200,
    title: 'Your account is already active',
    body: `<h1>Your account is already active</h1>
<p>The account <strong>${escapeHtml(username)}</strong> was activated before; there is nothing more to do. You are signed in.</p>`,
  };
}

/**
 * One page for a link that is malformed, of an unknown user, with a wrong token or an
 * expired one: deliberately the same bytes, so a link reveals nothing about accounts.
 */
export function invalidLinkPage(): Page {
  return {
    status: 400,
    title: 'This link is not valid',
    body: `<h1>This activation link is not valid or has expired</h1>
<p>Activation links work for a limited time, and only the link in the most recent activation mail works. Check that you opened the whole link from that mail.</p>
<p>If your account is already active, you can simply sign in.</p>
<h2>Get a new activation mail</h2>
${RESEND_FORM}`,
  };
}

/**
 * The resend form. Its action is relative: next to the activation page (`/activate` →
 * `/activation-mail`), under whatever path prefix the deployment has.
 */
const RESEND_FORM = `<form method="post" action="activation-mail">
<label for="email">Your e-mail address</label>
<input id="email" type="email" name="email" autocomplete="email" required maxlength="320">
<button type="submit">Send a new activation mail</button>
</form>`;

/** The message the resend form shows again after a value that is no e-mail address. */
export const INVALID_IDENTIFIER_PROBLEM = 'Please enter the e-mail address you registered with.';

/** The resend form on its own: shown again (400) after a value that failed validation. */
export function resendFormPage(problem: string): Page {
  return {
    status: 400,
    title: 'Get a new activation mail',
    body: `<h1>Get a new activation mail</h1>
<p class="problem" role="alert">${escapeHtml(problem)}</p>
${RESEND_FORM}`,
  };
}

/** After a resend request (202), the same page whatever the account. */
export function activationMailRequestedPage(): Page {
  return {
    status: 202,
    title: 'Check your inbox',
    body: `<h1>Check your inbox</h1>
<p>If an account with this address is waiting for activation, a new activation mail is on its way. Only the link in the newest mail works; older links no longer do.</p>
<p>If the account is already active, the mail says so: you can simply sign in.</p>`,
  };
}

/** Over a rate limit (429): how long to wait, in whole minutes, and that nothing changed. */
export function tooManyAttemptsPage(retryAfterSeconds: number): Page {
  const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
  return {
    status: 429,
    title: 'Too many attempts',
    body: `<h1>Too many attempts</h1>
<p>Nothing was changed and no mail was sent. Please wait ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}, then try again.</p>`,
  };
}

/** DynamoDB unreachable or busy: not the visitor's fault, and likely to pass. */
export function unavailablePage(status: number): Page {
  return {
    status,
    title: 'Please try again',
    body: `<h1>Something went wrong on our side</h1>
<p>Your account was not changed. Please go back and press the button again in a minute.</p>`,
  };
}
