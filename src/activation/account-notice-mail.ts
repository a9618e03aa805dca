/**
 * Notices to an active account: mails that tell its owner what someone asked for with
 * their address or username, or did to the account, and carry no link that changes
 * anything. Like the activation
 * mail, everything the user typed is HTML-escaped in the HTML part.
 */
import { mailHtml, type OutgoingMail } from './activation-mail';
import { escapeHtml } from './html';
import { type AccountNoticeKind, MailRequestKind } from './mail-request';

export interface AccountNoticeContent {
  readonly to: string;
  readonly name: string;
  readonly username: string;
  readonly kind: AccountNoticeKind;
  /** Where to sign in: the site the activation links point at. */
  readonly siteUrl: string;
  /** Where to ask for a password-reset mail (the site's `/password-reset` page). */
  readonly passwordResetUrl: string;
}

type Advice = (content: AccountNoticeContent) => string;

const ALREADY_ACTIVE_ADVICE: Advice = (content) =>
  `Your account "${content.username}" is already active: there is nothing to activate. If it was you, sign in at ${content.siteUrl} (or reset your password at ${content.passwordResetUrl} if you forgot it). If it was not you, ignore this mail: nothing was changed and no account was created.`;

const NOTICES: Readonly<
  Record<
    AccountNoticeKind,
    { readonly subject: string; readonly what: string; readonly advice: Advice }
  >
> = {
  [MailRequestKind.ALREADY_ACTIVE]: {
    subject: 'Your Digital Card Store account is already active',
    what: 'someone asked for a new activation mail for your account',
    advice: ALREADY_ACTIVE_ADVICE,
  },
  [MailRequestKind.SIGN_UP_ATTEMPT]: {
    subject: 'Someone tried to create a Digital Card Store account with your address',
    what: 'someone tried to create a new account with this e-mail address, which your account already has',
    advice: ALREADY_ACTIVE_ADVICE,
  },
  [MailRequestKind.PASSWORD_CHANGED]: {
    subject: 'The password of your Digital Card Store account was changed',
    what: 'the password of your account was just changed, and every device signed in to it was signed out',
    advice: (content) =>
      `If it was you, there is nothing to do: sign in at ${content.siteUrl} with the new password. If it was not you, someone else knows how to get into your account "${content.username}" or your mailbox: reset your password now at ${content.passwordResetUrl}, and change the password of your mailbox too.`,
  },
};

/** The subject of each notice (what the inbox shows). */
export const ACCOUNT_NOTICE_SUBJECTS: Readonly<Record<AccountNoticeKind, string>> = {
  [MailRequestKind.ALREADY_ACTIVE]: NOTICES[MailRequestKind.ALREADY_ACTIVE].subject,
  [MailRequestKind.SIGN_UP_ATTEMPT]: NOTICES[MailRequestKind.SIGN_UP_ATTEMPT].subject,
  [MailRequestKind.PASSWORD_CHANGED]: NOTICES[MailRequestKind.PASSWORD_CHANGED].subject,
};

export function renderAccountNotice(content: AccountNoticeContent): OutgoingMail {
  const { subject, what } = NOTICES[content.kind];
  const advice = NOTICES[content.kind].advice(content);
  const text = [
    `Dear ${content.name},`,
    '',
    `${what}.`,
    '',
    advice,
    '',
    'Digital Card Store',
    '',
  ].join('\n');
  const html = mailHtml(subject, content.name, [`${escapeHtml(what)}.`, escapeHtml(advice)]);
  return { to: content.to, subject, text, html };
}
