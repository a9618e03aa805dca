/**
 * The activation mail: subject, plain-text and HTML parts. Everything the user typed is
 * HTML-escaped in the HTML part, and the link's query values are URL-encoded, so a name
 * like `<img src=x onerror=alert(1)>` arrives as text.
 *
 * The link opens in a new browsing context without a Referer: web inboxes (the local one
 * too) show HTML mail in a frame, where the activation page refuses to be framed, and the
 * token must not leak to anyone through the Referer header.
 */
import { escapeHtml } from './html';

export const ACTIVATION_MAIL_SUBJECT = 'Activate your Digital Card Store account';

/**
 * A sender as SES takes it: `addr@domain` or `Display Name <addr@domain>`, on one line
 * (a line break would let configuration inject headers).
 */
export const SENDER_ADDRESS_PATTERN = /^([^<>\r\n]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/;

export interface OutgoingMail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

export interface ActivationMailContent {
  readonly to: string;
  readonly name: string;
  readonly username: string;
  /** From the user record; checked against the allow-list before this is called. */
  readonly activationUrlBase: string;
  readonly token: string;
  readonly expiresAt: Date;
}

/** `base?username=...&token=...`, both values URL-encoded. */
export function activationLink(base: string, username: string, token: string): string {
  return `${base}?username=${encodeURIComponent(username)}&token=${encodeURIComponent(token)}`;
}

function expiryText(expiresAt: Date): string {
  return `${expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function renderActivationMail(content: ActivationMailContent): OutgoingMail {
  const link = activationLink(content.activationUrlBase, content.username, content.token);
  const expires = expiryText(content.expiresAt);
  const text = [
    `Dear ${content.name},`,
    '',
    `thank you for registering at the Digital Card Store. To activate your account "${content.username}", open this link and press "Activate my account":`,
    '',
    link,
    '',
    `The link is valid until ${expires}. If you did not register, ignore this mail; nothing happens without the click.`,
    '',
    'Digital Card Store',
    '',
  ].join('\n');
  const html = mailHtml(ACTIVATION_MAIL_SUBJECT, content.name, [
    `thank you for registering at the Digital Card Store. To activate your account &quot;${escapeHtml(content.username)}&quot;, open this link and press &quot;Activate my account&quot;:`,
    `<a href="${escapeHtml(link)}" target="_blank" rel="noopener noreferrer">Activate my account</a>`,
    `If the link does not open, copy this address into your browser:<br>${escapeHtml(link)}`,
    `The link is valid until ${escapeHtml(expires)}. If you did not register, ignore this mail; nothing happens without the click.`,
  ]);
  return { to: content.to, subject: ACTIVATION_MAIL_SUBJECT, text, html };
}

/**
 * The HTML part of every mail: a greeting, `paragraphs` (markup built by the caller, every
 * value in it escaped), the signature.
 */
export function mailHtml(subject: string, name: string, paragraphs: readonly string[]): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>
<body style="font-family: sans-serif; line-height: 1.5">
<p>Dear ${escapeHtml(name)},</p>
${paragraphs.map((paragraph) => `<p>${paragraph}</p>\n`).join('')}<p>Digital Card Store</p>
</body>
</html>
`;
}
