/**
 * The start page (`/`: sign in, create an account), "check your inbox" after a sign-up,
 * and the account page (`/account`) with its change-password form. Templates in
 * `web/views`.
 */
import {
  EMAIL_MAX_LENGTH,
  NAME_MAX_LENGTH,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  type PublicUser,
  USERNAME_MAX_LENGTH,
  USERNAME_MIN_LENGTH,
} from '../../activation';
import { NEW_PASSWORD_FIELD, PASSWORD_RULES } from '../password/password-pages';
import { emptyForm, type FormFields, type FormState } from './form-state';
import type { Page } from './page';

/** The fields of each form, in their order, with their labels. */
export const REGISTER_FIELDS: FormFields = {
  name: 'Name',
  username: 'Username',
  email: 'E-mail address',
  password: 'Password',
};
export const SIGN_IN_FIELDS: FormFields = { username: 'Username', password: 'Password' };
export const CHANGE_PASSWORD_FIELDS: FormFields = {
  currentPassword: 'Current password',
  newPassword: 'New password',
  newPasswordConfirmation: 'The new password again',
};

/** The short notes a page may show after a redirect (`?notice=`); any other value shows none. */
export const NOTICES = {
  'signed-out': 'You are signed out.',
  'signed-out-everywhere': 'You are signed out on every device.',
  'sign-in-first': 'Sign in to see your account.',
  'session-ended': 'You are not signed in (any more). Please sign in again.',
  'form-unreadable': 'That form could not be read, so nothing was changed. Please try again.',
  'password-changed':
    'Your password was changed. Every other device was signed out, and a mail confirming the change is on its way.',
} as const;

export type NoticeName = keyof typeof NOTICES;

export const noticeOf = (name: unknown): string | undefined =>
  typeof name === 'string' && Object.hasOwn(NOTICES, name)
    ? NOTICES[name as NoticeName]
    : undefined;

const RULES = {
  username: `${USERNAME_MIN_LENGTH} to ${USERNAME_MAX_LENGTH} characters: letters a–z, digits, dots, hyphens and underscores (capitals become small letters).`,
  password: PASSWORD_RULES,
  usernameMaxLength: USERNAME_MAX_LENGTH,
  nameMaxLength: NAME_MAX_LENGTH,
  emailMaxLength: EMAIL_MAX_LENGTH,
  passwordMinLength: PASSWORD_MIN_LENGTH,
  passwordMaxLength: PASSWORD_MAX_LENGTH,
};

export interface HomePageState {
  readonly status?: number;
  readonly register?: FormState;
  readonly signIn?: FormState;
  readonly notice?: string;
}

/** `/`: sign in and create an account, side by side; a failed form shows its errors. */
export function homePage(state: HomePageState = {}): Page {
  return {
    status: state.status ?? 200,
    view: 'home',
    title: 'Sign in or create an account',
    data: {
      register: state.register ?? emptyForm('register'),
      signIn: state.signIn ?? emptyForm('sign-in'),
      notice: state.notice,
      rules: RULES,
    },
  };
}

/** A form of the account page posted without a live session (401): sign in again. */
export const sessionEndedPage = (): Page =>
  homePage({ status: 401, notice: NOTICES['session-ended'] });

/**
 * The client error of a sign-out form, which has no fields: without a session (401) the
 * start page asking to sign in again; else (a body that could not be read) saying so.
 */
export const signOutErrorPage = (
  _request: unknown,
  _error: unknown,
  answer: { statusCode: number },
): Page =>
  answer.statusCode === 401
    ? sessionEndedPage()
    : homePage({ status: answer.statusCode, notice: NOTICES['form-unreadable'] });

/** After a sign-up from the page (201): where the activation mail goes. */
export function registeredPage(user: PublicUser): Page {
  return {
    status: 201,
    view: 'registered',
    title: 'Check your inbox',
    data: { username: user.username, email: user.email },
  };
}

/** How the account page says each status, in words rather than the API's codes. */
const STATUS_TEXT: Readonly<Record<PublicUser['activationStatus'], string>> = {
  NONE: 'Waiting for activation (the activation mail is on its way)',
  MAIL_SENT: 'Waiting for activation (the activation mail was sent)',
  DONE: 'Active',
};

/** `/account`: who is signed in, signing out, and the change-password form. */
export function accountPage(user: PublicUser, notice?: string): Page {
  return {
    status: 200,
    view: 'account',
    title: 'Your account',
    data: {
      user,
      username: user.username,
      status: STATUS_TEXT[user.activationStatus] ?? user.activationStatus,
      notice,
      password: emptyForm('password'),
      ...NEW_PASSWORD_FIELD,
    },
  };
}

/** The change-password form again, after a wrong current password or a new one refused. */
export function changePasswordPage(username: string, status: number, form: FormState): Page {
  return {
    status,
    view: 'change-password',
    title: 'Change your password',
    data: {
      username,
      password: form,
      ...NEW_PASSWORD_FIELD,
    },
  };
}
