/**
 * The pages of the activation link and of the resend form (templates in
 * src/users/pages/web/views). Everything that came from a request is escaped by the
 * templates.
 */
import { emptyForm, formWithProblem } from '../pages/form-state';
import type { Page } from '../pages/page';

export const ACTIVATE_BUTTON_LABEL = 'Activate my account';

/** The message the form shows again after a wrong password. */
export const WRONG_PASSWORD_PROBLEM = 'That is not the password of this account. Please try again.';

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
  const form = problem ? formWithProblem('activate', 'password', problem) : emptyForm('activate');
  return {
    status: problem ? 401 : 200,
    view: 'activate',
    title: 'Activate your account',
    data: { action, username, token, form, buttonLabel: ACTIVATE_BUTTON_LABEL },
  };
}

export function activatedPage(username: string): Page {
  return {
    status: 200,
    view: 'activated',
    title: 'Your account is active',
    data: { username, alreadyActive: false },
  };
}

export function alreadyActivePage(username: string): Page {
  return {
    status: 200,
    view: 'activated',
    title: 'Your account is already active',
    data: { username, alreadyActive: true },
  };
}

/**
 * One page for a link that is malformed, of an unknown user, with a wrong token or an
 * expired one: deliberately the same bytes, so a link reveals nothing about accounts.
 */
export function invalidLinkPage(): Page {
  return {
    status: 400,
    view: 'activation-link-invalid',
    title: 'This link is not valid',
    data: { form: emptyForm('resend') },
  };
}

/** The message the resend form shows again after a value that is no e-mail address. */
export const INVALID_IDENTIFIER_PROBLEM = 'Please enter the e-mail address you registered with.';

/**
 * The resend form on its own: `GET /activation-mail` (200), and again (400) after a
 * value that failed validation.
 */
export function resendFormPage(problem?: string): Page {
  return {
    status: problem ? 400 : 200,
    view: 'activation-mail',
    title: 'Get a new activation mail',
    data: { form: problem ? formWithProblem('resend', 'email', problem) : emptyForm('resend') },
  };
}

/** After a resend request (202), the same page whatever the account. */
export function activationMailRequestedPage(): Page {
  return { status: 202, view: 'activation-mail-requested', title: 'Check your inbox' };
}
