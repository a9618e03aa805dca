/**
 * Mail requests: every mail the service sends is asked for by a write to the user's item
 * (`mailRequestId`, `mailRequestKind`), never by calling SES. The write's stream record
 * starts one state-machine execution named after the request id, and the mail task sends
 * for that request only while it is still the item's open request: a newer request on the
 * same account replaces it (its links die), and a request is closed by the write that
 * records its mail as sent (or by activation).
 *
 * - ACTIVATION: a pending account's activation mail (registration, typo fix, resend).
 * - ALREADY_ACTIVE: someone asked for an activation mail of an active account.
 * - SIGN_UP_ATTEMPT: someone tried to register the address of an active account.
 * - PASSWORD_RESET: a password-reset mail, with a link, to any live account.
 * - PASSWORD_CHANGED: the notice that an account's password was changed (by a reset, or
 *   signed in). Until it is sent, no other request replaces it for
 *   PASSWORD_CHANGED_NOTICE_HOLD_SECONDS: whoever changed the password cannot swallow the
 *   owner's notice by asking for another mail right after.
 */
import { randomUUID } from 'node:crypto';

export const MailRequestKind = {
  ACTIVATION: 'ACTIVATION',
  ALREADY_ACTIVE: 'ALREADY_ACTIVE',
  SIGN_UP_ATTEMPT: 'SIGN_UP_ATTEMPT',
  PASSWORD_RESET: 'PASSWORD_RESET',
  PASSWORD_CHANGED: 'PASSWORD_CHANGED',
} as const;

export type MailRequestKind = (typeof MailRequestKind)[keyof typeof MailRequestKind];

/**
 * How long an unsent PASSWORD_CHANGED notice keeps its place as the open request. The
 * pipeline sends it within a second; the hold only matters while it is stuck (retries,
 * throttling), and ends so that a notice that can never go out does not block every later
 * reset of the account.
 */
export const PASSWORD_CHANGED_NOTICE_HOLD_SECONDS = 15 * 60;

/** The instant before which a password change no longer holds the open request. */
export function noticeHoldSince(now: string): string {
  return new Date(Date.parse(now) - PASSWORD_CHANGED_NOTICE_HOLD_SECONDS * 1000).toISOString();
}

/** The kinds sent to an active account: notices, without a link that changes anything. */
export type AccountNoticeKind = Exclude<MailRequestKind, 'ACTIVATION' | 'PASSWORD_RESET'>;

export function isMailRequestKind(value: unknown): value is MailRequestKind {
  return typeof value === 'string' && Object.values<string>(MailRequestKind).includes(value);
}

export function isAccountNoticeKind(value: unknown): value is AccountNoticeKind {
  return (
    isMailRequestKind(value) &&
    value !== MailRequestKind.ACTIVATION &&
    value !== MailRequestKind.PASSWORD_RESET
  );
}

export interface MailRequest {
  /** A UUID: names the state-machine execution, so a duplicated stream record starts none. */
  readonly id: string;
  readonly kind: MailRequestKind;
}

export function newMailRequest(kind: MailRequestKind): MailRequest {
  return { id: randomUUID(), kind };
}

/** A request id as the trigger and the tasks accept it: what `newMailRequest` makes. */
export const MAIL_REQUEST_ID_PATTERN =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
