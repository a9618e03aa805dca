import { mintActivationToken, type UserStore } from '..';

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
  const token = mintActivationToken();
  const later = (seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString();
  const claim = await store.claimActivationMail(username, {
    claimId: `test-${token.hash.slice(0, 8)}`,
    tokenHash: token.hash,
    tokenExpiresAt: later(3600),
    leaseExpiresAt: later(60),
    now: now.toISOString(),
  });
  if (!claim.claimed) throw new Error(`cannot claim '${username}': ${claim.reason}`);
  if (!(await store.activate(username, token.hash, now.toISOString()))) {
    throw new Error(`cannot activate '${username}'`);
  }
  return token.token;
}
