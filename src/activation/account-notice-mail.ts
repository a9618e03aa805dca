/**
 * Notices to an active account: mails that tell its owner what someone asked for with
 * their address or username, and carry no link that changes anything. Like the activation
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
}

const NOTICES: Readonly<
  Record<AccountNoticeKind, { readonly subject: string; readonly what: string }>
> = {
  [MailRequestKind.ALREADY_ACTIVE]: {
    subject: 'Your Digital Card Store account is already active',
    what: 'someone asked for a new activation mail for your account',
  },
  [MailRequestKind.SIGN_UP_ATTEMPT]: {
    subject: 'Someone tried to create a Digital Card Store account with your address',
    what: 'someone tried to create a new account with this e-mail address, which your account already has',
  },
};

/** The subject of each notice (what the inbox shows). */
export const ACCOUNT_NOTICE_SUBJECTS: Readonly<Record<AccountNoticeKind, string>> = {
  [MailRequestKind.ALREADY_ACTIVE]: NOTICES[MailRequestKind.ALREADY_ACTIVE].subject,
  [MailRequestKind.SIGN_UP_ATTEMPT]: NOTICES[MailRequestKind.SIGN_UP_ATTEMPT].subject,
};

export function renderAccountNotice(content: AccountNoticeContent): OutgoingMail {
  const { subject, what } = NOTICES[content.kind];
  const advice = `Your account "${content.username}" is already active: there is nothing to activate. If it was you, sign in at ${content.siteUrl} (or reset your password if you forgot it). If it was not you, ignore this mail: nothing was changed and no account was created.`;
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
