import { hashActivationToken, mintActivationToken, type UserStore } from '..';

export interface ClaimedToken {
  /** Goes into the link. */
  readonly token: string;
  readonly claimId: string;
}

/**
 * Gives a NONE user a live activation token through the store's own conditional write,
 * as the mail step of its open request does (without the mail).
 */
export async function claimTokenDirectly(
  store: UserStore,
  username: string,
  times: { readonly now: Date; readonly tokenExpiresAt: Date; readonly leaseExpiresAt: Date },
): Promise<ClaimedToken> {
  const minted = mintActivationToken();
  const claimId = `test-${minted.hash.slice(0, 12)}`;
  // For the user's open mail request, as the execution it started would.
  const requestId = (await store.findByUsername(username))?.mailRequestId;
  const claim = await store.claimActivationMail(username, {
    ...(requestId === undefined ? {} : { requestId }),
    claimId,
    tokenHash: minted.hash,
    tokenExpiresAt: times.tokenExpiresAt.toISOString(),
    leaseExpiresAt: times.leaseExpiresAt.toISOString(),
    now: times.now.toISOString(),
  });
  if (!claim.claimed) throw new Error(`cannot claim '${username}': ${claim.reason}`);
  return { token: minted.token, claimId };
}

/**
 * Takes a NONE user to DONE through the store's own conditional writes (claim, then
 * activate), as a mail and a click would, for tests that only need an active account.
 * @returns the token that activated it
 */
export async function activateDirectly(
  store: UserStore,
  username: string,
  now: Date = new Date(),
): Promise<string> {
  const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);
  const { token } = await claimTokenDirectly(store, username, {
    now,
    tokenExpiresAt: later(3600),
    leaseExpiresAt: later(60),
  });
  const user = await store.findByUsername(username);
  if (!user) throw new Error(`no user '${username}'`);
  if (!(await store.activate(user, hashActivationToken(token), now.toISOString()))) {
    throw new Error(`cannot activate '${username}'`);
  }
  return token;
}
