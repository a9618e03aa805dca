/**
 * The one way a "mail me" endpoint (resend, password reset) writes its request: find the
 * account by the identifier typed, then one conditional write. Every outcome makes the
 * same calls (the address's claim when an address is typed, one user read, one
 * conditional UpdateItem), so that neither the answer nor its timing tells whether an
 * account exists: for no account the read and the write go to NO_ACCOUNT, which no user
 * can be, and the write's condition fails without writing anything.
 */
import type { Clock } from './clock.port';
import { type MailRequestKind, newMailRequest } from './mail-request';
import { isExpiredPending, type UserRecord } from './user';
import {
  emailKey,
  emailProblems,
  normaliseEmail,
  normaliseUsername,
  storedEmailKey,
  usernameProblems,
} from './user-rules';
import type { UserStore } from './user-store.port';

/** Whose mail is asked for: by the account's address or its username. */
export type AccountIdentifier =
  | { readonly email: string; readonly username?: undefined }
  | { readonly username: string; readonly email?: undefined };

/** A key no username can be (usernameProblems refuses `#`): the decoy of no account. */
export const NO_ACCOUNT = '#no-account';

/**
 * Opens a request of the kind `kindFor` picks for the account (undefined: none) and
 * returns that kind, or undefined when nothing was written.
 */
export async function requestAccountMail(
  store: UserStore,
  clock: Clock,
  identifier: AccountIdentifier,
  kindFor: (user: UserRecord) => MailRequestKind | undefined,
): Promise<MailRequestKind | undefined> {
  const now = clock.now();
  const username = (await usernameOf(store, identifier, now)) ?? NO_ACCOUNT;
  const user = await store.findByUsername(username);
  const kind = user && isAccountOf(user, identifier, now) ? kindFor(user) : undefined;
  const request = newMailRequest(kind ?? MAIL_REQUEST_OF_NO_ACCOUNT);
  const written = await store.requestMail(
    kind === undefined ? NO_ACCOUNT : username,
    request,
    now.toISOString(),
  );
  return written && kind !== undefined ? kind : undefined;
}

/** The kind of the decoy write: any; its condition fails on NO_ACCOUNT's missing item. */
const MAIL_REQUEST_OF_NO_ACCOUNT: MailRequestKind = 'PASSWORD_RESET';

/** A live account, and (asked by address) still the account of that address. */
function isAccountOf(user: UserRecord, identifier: AccountIdentifier, now: Date): boolean {
  if (isExpiredPending(user, now)) return false;
  // A stale claim (its account has another address now) is no account of this address;
  // nor is an account whose stored address cannot be delivered (from before the rules).
  return (
    identifier.email === undefined || storedEmailKey(user.email) === emailKey(identifier.email)
  );
}

/** The account's username: as typed (normalised), or the holder of the address's live claim. */
async function usernameOf(
  store: UserStore,
  identifier: AccountIdentifier,
  now: Date,
): Promise<string | undefined> {
  if (identifier.username !== undefined) {
    const username = normaliseUsername(identifier.username);
    return usernameProblems(username).length === 0 ? username : undefined;
  }
  const email = normaliseEmail(identifier.email);
  if (emailProblems(email).length > 0) return undefined;
  const claim = await store.findEmailClaim(email);
  if (!claim || (claim.expiresAt !== undefined && claim.expiresAt * 1000 <= now.getTime())) {
    return undefined;
  }
  return claim.username;
}
