/**
 * The pages of the password reset, in the activation pages' layout and with their strict
 * headers (no-store, no Referer, their own CSP): the request form, "check your inbox",
 * the link's new-password form, "password changed", and the one "link not valid" page.
 * Every form action is relative, so a deployment under a path prefix posts to the right
 * place: the pages live at `password-reset` and `password-reset/new` next to `activate`.
 */
import { escapeHtml, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../activation';
import type { Page } from '../activation/activation-pages';

/** The request form's action, from a page at `password-reset` or at `password-reset/…`. */
export type RequestFormAction = 'password-reset' | '../password-reset';

const PASSWORD_RULES = `At least ${PASSWORD_MIN_LENGTH} and at most ${PASSWORD_MAX_LENGTH} characters; a passphrase of a few words is easy to remember and hard to guess.`;

const problemParagraph = (problem: string | undefined) =>
  problem ? `<p class="problem" role="alert">${escapeHtml(problem)}</p>\n` : '';

function requestForm(action: RequestFormAction): string {
  return `<form method="post" action="${action}">
<label for="email">Your e-mail address</label>
<input id="email" type="email" name="email" autocomplete="email" required maxlength="320">
<button type="submit">Send me a reset link</button>
</form>`;
}

/** `GET /password-reset`, and the form again (400) after a value that is no address. */
export function passwordResetRequestPage(problem?: string): Page {
  return {
    status: problem ? 400 : 200,
    title: 'Reset your password',
    body: `<h1>Forgot your password?</h1>
<p>Enter the e-mail address of your account. We send a link to choose a new password; it works once, for a limited time (the mail says until when).</p>
${problemParagraph(problem)}${requestForm('password-reset')}`,
  };
}

/** The message the request form shows again after a value that is no e-mail address. */
export const INVALID_ADDRESS_PROBLEM = 'Please enter the e-mail address of your account.';

/** After a reset request (202): the same page whatever the account. */
export function passwordResetRequestedPage(): Page {
  return {
    status: 202,
    title: 'Check your inbox',
    body: `<h1>Check your inbox</h1>
<p>If an account has this address, a mail with a link to choose a new password is on its way. The link works once, until the time the mail gives, and only the link in the newest mail works.</p>
<p>Nothing arrived? Check the spam folder, and that you typed the address of your account.</p>`,
  };
}

/**
 * The page behind the reset link: the form for the new password, twice. It reads and
 * changes nothing (mail scanners fetch links); the POST checks the link.
 */
export function newPasswordFormPage(username: string, token: string, problem?: string): Page {
  return {
    status: problem ? 400 : 200,
    title: 'Choose a new password',
    body: `<h1>Choose a new password</h1>
<p>For the account <strong>${escapeHtml(username)}</strong>. ${escapeHtml(PASSWORD_RULES)} Every device signed in to the account will be signed out.</p>
${problemParagraph(problem)}<form method="post" action="new">
<input type="hidden" name="username" value="${escapeHtml(username)}">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<input type="text" value="${escapeHtml(username)}" autocomplete="username" hidden>
<label for="password">New password</label>
<input id="password" type="password" name="password" autocomplete="new-password" required minlength="${PASSWORD_MIN_LENGTH}" maxlength="${PASSWORD_MAX_LENGTH}">
<label for="passwordConfirmation">The new password again</label>
<input id="passwordConfirmation" type="password" name="passwordConfirmation" autocomplete="new-password" required minlength="${PASSWORD_MIN_LENGTH}" maxlength="${PASSWORD_MAX_LENGTH}">
<button type="submit">Set the new password</button>
</form>`,
  };
}

/** The message of a confirmation that differs from the new password. */
export const PASSWORDS_DIFFER_PROBLEM =
  'The two passwords are not the same. Please type them again.';

/** After a reset: not signed in (OWASP), sent to sign in. */
export function passwordChangedPage(username: string): Page {
  return {
    status: 200,
    title: 'Your password was changed',
    body: `<h1>Your password was changed</h1>
<p>The account <strong>${escapeHtml(username)}</strong> has its new password, and every device that was signed in to it is signed out. A mail confirming the change is on its way.</p>
<p><a href="../">Sign in</a> with the new password.</p>`,
  };
}

/**
 * One page for a reset link that is malformed, of an unknown user, with a wrong, used or
 * expired token: deliberately the same bytes, with the request form again.
 */
export function invalidResetLinkPage(): Page {
  return {
    status: 400,
    title: 'This link is not valid',
    body: `<h1>This password-reset link is not valid or has expired</h1>
<p>A reset link works once, for a limited time, and only the link in the newest reset mail works. Any password change makes older links stop working.</p>
<h2>Get a new reset link</h2>
${requestForm('../password-reset')}`,
  };
}
