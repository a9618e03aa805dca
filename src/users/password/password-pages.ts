/**
 * The pages of the password reset (templates in src/users/pages/web/views): the request
 * form, "check your inbox", the link's new-password form, "password changed", and the one
 * "link not valid" page. Their form actions are relative to the app's root, so a
 * deployment under a path prefix posts to the right place.
 */
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../activation';
import { emptyForm, type FormState, formWithProblem } from '../pages/form-state';
import type { Page } from '../pages/page';

export const PASSWORD_RULES = `At least ${PASSWORD_MIN_LENGTH} and at most ${PASSWORD_MAX_LENGTH} characters; a passphrase of a few words is easy to remember and hard to guess.`;

/** What every form with a new-password field shows and limits it to (its templates read these). */
export const NEW_PASSWORD_FIELD = {
  passwordRules: PASSWORD_RULES,
  passwordMinLength: PASSWORD_MIN_LENGTH,
  passwordMaxLength: PASSWORD_MAX_LENGTH,
} as const;

/** `GET /password-reset`, and the form again (400) after a value that is no address. */
export function passwordResetRequestPage(problem?: string): Page {
  return {
    status: problem ? 400 : 200,
    view: 'password-reset',
    title: 'Reset your password',
    data: { form: problem ? formWithProblem('reset', 'email', problem) : emptyForm('reset') },
  };
}

/** The message the request form shows again after a value that is no e-mail address. */
export const INVALID_ADDRESS_PROBLEM = 'Please enter the e-mail address of your account.';

/** After a reset request (202): the same page whatever the account. */
export function passwordResetRequestedPage(): Page {
  return { status: 202, view: 'password-reset-requested', title: 'Check your inbox' };
}

/**
 * The page behind the reset link: the form for the new password, twice. It reads and
 * changes nothing (mail scanners fetch links); the POST checks the link.
 */
export function newPasswordFormPage(
  username: string,
  token: string,
  form: FormState = emptyForm('new-password'),
): Page {
  return {
    status: form.summary.length > 0 ? 400 : 200,
    view: 'new-password',
    title: 'Choose a new password',
    data: {
      username,
      token,
      form,
      ...NEW_PASSWORD_FIELD,
    },
  };
}

/** The message of a confirmation that differs from the new password. */
export { PASSWORDS_DIFFER_PROBLEM } from '../pages/form-state';

/** After a reset: not signed in (OWASP), sent to sign in. */
export function passwordChangedPage(username: string): Page {
  return {
    status: 200,
    view: 'password-changed',
    title: 'Your password was changed',
    data: { username },
  };
}

/**
 * One page for a reset link that is malformed, of an unknown user, with a wrong, used or
 * expired token: deliberately the same bytes, with the request form again.
 */
export function invalidResetLinkPage(): Page {
  return {
    status: 400,
    view: 'reset-link-invalid',
    title: 'This link is not valid',
    data: { form: emptyForm('reset') },
  };
}
