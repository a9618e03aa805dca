/**
 * The password-reset mail: a link to the page that sets a new password, valid for an
 * hour (by default) and only until the password changes or a newer reset mail is asked
 * for. The link's base is the sibling `password-reset/new` of the account's allow-listed
 * activation base, never anything from a request. Escaped and referrer-free like the
 * activation mail.
 */
import { mailHtml, type OutgoingMail } from './activation-mail';
import { escapeHtml } from './html';

export const PASSWORD_RESET_MAIL_SUBJECT = 'Reset the password of your Digital Card Store account';

/** The page behind the reset link, next to the activation page: `…/activate` → `…/password-reset/new`. */
export function passwordResetPageBase(activationUrlBase: string): string {
  return new URL('password-reset/new', activationUrlBase).href;
}

/** The page that asks for a reset mail: `…/activate` → `…/password-reset`. */
export function passwordResetRequestPage(activationUrlBase: string): string {
  return new URL('password-reset', activationUrlBase).href;
}

/** `base?username=...&token=...`, both values URL-encoded (the activation link's shape). */
export function passwordResetLink(activationUrlBase: string, username: string, token: string) {
  const base = passwordResetPageBase(activationUrlBase);
  return `${base}?username=${encodeURIComponent(username)}&token=${encodeURIComponent(token)}`;
}

export interface PasswordResetMailContent {
  readonly to: string;
  readonly name: string;
  readonly username: string;
  /** From the user record; checked against the allow-list before this is called. */
  readonly activationUrlBase: string;
  readonly token: string;
  readonly expiresAt: Date;
}

export function renderPasswordResetMail(content: PasswordResetMailContent): OutgoingMail {
  const link = passwordResetLink(content.activationUrlBase, content.username, content.token);
  const expires = `${content.expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const ignore =
    'If you did not ask for this, ignore this mail: your password stays as it is, and the link dies when it expires.';
  const text = [
    `Dear ${content.name},`,
    '',
    `someone (hopefully you) asked to reset the password of your account "${content.username}". To choose a new password, open this link:`,
    '',
    link,
    '',
    `The link is valid until ${expires}, once. ${ignore}`,
    '',
    'Digital Card Store',
    '',
  ].join('\n');
  const html = mailHtml(PASSWORD_RESET_MAIL_SUBJECT, content.name, [
    `someone (hopefully you) asked to reset the password of your account &quot;${escapeHtml(content.username)}&quot;. To choose a new password, open this link:`,
    `<a href="${escapeHtml(link)}" target="_blank" rel="noopener noreferrer">Choose a new password</a>`,
    `If the link does not open, copy this address into your browser:<br>${escapeHtml(link)}`,
    `The link is valid until ${escapeHtml(expires)}, once. ${escapeHtml(ignore)}`,
  ]);
  return { to: content.to, subject: PASSWORD_RESET_MAIL_SUBJECT, text, html };
}
