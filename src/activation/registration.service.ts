import { ActivationStatus } from './activation-status';
import { EmailTakenError, UsernameTakenError } from './activation.errors';
import type { Clock } from './clock.port';
import { MailRequestKind, newMailRequest } from './mail-request';
import type { PasswordHasher } from './password-hasher';
import type { NewUserRecord, PublicUser, UserRecord } from './user';
import { isExpiredPending, isLegacyAccount, toPublicUser } from './user';
import { normaliseRegistration, type RegistrationInput } from './user-rules';
import type { EmailClaim, UserStore } from './user-store.port';

export interface RegistrationSettings {
  /** `PUBLIC_BASE_URL + "/activate"`, from configuration. */
  readonly activationUrlBase: string;
  /** How long an account may stay pending before it is gone (PENDING_ACCOUNT_TTL_SECONDS). */
  readonly pendingAccountTtlSeconds: number;
}

/**
 * At most one "someone tried to sign up with your address" notice per active account in
 * this time; further attempts are answered alike and mail nothing.
 */
export const SIGN_UP_NOTICE_QUIET_SECONDS = 3600;

/**
 * Reads and writes again when a concurrent registration or activation changed what was
 * read between the two (each round is two reads and one conditional write).
 */
const MAX_ROUNDS = 3;

/**
 * What one round decided: the answer, `retry` when a write found the state changed since
 * its read, or `taken` for a username that is not the registrant's.
 */
type Round = { readonly answer: PublicUser } | { readonly retry: true } | { readonly taken: true };

/**
 * Use case: sign-up. Every outcome but a taken username is answered alike, with the
 * account as registered, so that sign-up reveals no e-mail address:
 *
 * | username | address | what happens |
 * |---|---|---|
 * | free (or an expired pending account's) | free (or expired) | a new pending account |
 * | free | a pending account's | that account is replaced: deleted, its claim taken over |
 * | free | an active account's | nothing stored; the owner gets a notice mail |
 * | a pending account's, with its password | any | the typo fix: address and name updated |
 * | a pending account's, other password; an active account's | any | UsernameTakenError |
 *
 * Each new or updated pending account carries a new ACTIVATION mail request, whose stream
 * record starts its mail; a replaced request's links die. Every path hashes the password
 * once and makes the same round trips (two reads at once, then one transaction), so the
 * answer's timing does not tell a free address from an active account's either.
 */
export class RegistrationService {
  constructor(
    private readonly store: UserStore,
    private readonly hasher: PasswordHasher,
    private readonly clock: Clock,
    private readonly settings: RegistrationSettings,
  ) {}

  /**
   * @throws InvalidUserInputError when a rule is broken
   * @throws UsernameTakenError when the username is an active account's, or a pending
   *   account's and the password is not its own
   */
  async register(input: RegistrationInput): Promise<PublicUser> {
    const registration = normaliseRegistration(input);
    const now = this.clock.now();
    const user: NewUserRecord = {
      username: registration.username,
      email: registration.email,
      name: registration.name,
      passwordHash: await this.hasher.hash(registration.password),
      activationStatus: ActivationStatus.NONE,
      activationUrlBase: this.settings.activationUrlBase,
      createdAt: now.toISOString(),
      expiresAt: Math.floor(now.getTime() / 1000) + this.settings.pendingAccountTtlSeconds,
      ...mailRequestFields(),
    };
    const answer = toPublicUser(user);
    for (let round = 1; ; round++) {
      const [existing, claim] = await Promise.all([
        this.store.findByUsername(user.username),
        this.store.findEmailClaim(user.email),
      ]);
      let result: Round;
      try {
        result = await this.decide(registration.password, user, answer, now, existing, claim);
      } catch (error) {
        if (!(error instanceof UsernameTakenError || error instanceof EmailTakenError)) throw error;
        // Written by someone else between our reads and our write: read again.
        if (round < MAX_ROUNDS) continue;
        // Still refused: a username is public (409); an address is not. A claim under one
        // of the address's old keys (from before the key was the delivery address) ends
        // here too: it has no owner we could tell, and nothing was stored.
        if (error instanceof UsernameTakenError) throw error;
        return answer;
      }
      if ('taken' in result) throw new UsernameTakenError(user.username);
      if ('answer' in result) return result.answer;
    }
  }

  private async decide(
    password: string,
    user: NewUserRecord,
    answer: PublicUser,
    now: Date,
    existing: UserRecord | undefined,
    claim: EmailClaim | undefined,
  ): Promise<Round> {
    const live = existing && !isExpiredPending(existing, now) ? existing : undefined;
    if (live) {
      // Usernames are public handles: a taken one is a 409, whoever asks.
      // A legacy account (the Spring app's) is never written over by a
      // sign-up, pending or not: its person gets a link through "no activation mail?".
      if (
        live.activationStatus === ActivationStatus.DONE ||
        isLegacyAccount(live) ||
        live.passwordHash === undefined ||
        !(await this.hasher.verify(password, live.passwordHash))
      ) {
        return { taken: true };
      }
    }
    const holder = claimHolder(claim, now, live ?? user);
    if (holder.state === 'ACTIVE') return this.noticeOwner(holder.username, user, answer, now);
    const replacing = holder.state === 'PENDING' ? { username: holder.username } : undefined;
    if (live) {
      // The typo fix: the account as registered now, with its own password hash and
      // history; its token and send claim go, so every older link dies.
      const {
        activationTokenHash: _token,
        activationTokenExpiresAt: _tokenEnd,
        mailClaimId: _claim,
        mailClaimExpiresAt: _lease,
        ...kept
      } = live;
      await this.store.updatePending(
        live,
        // `live` has a hash: a legacy item or one without was refused above.
        { ...kept, ...user, passwordHash: live.passwordHash! },
        replacing,
      );
    } else {
      await this.store.create(user, replacing);
    }
    return { answer };
  }

  /** The address is an active account's: nothing is stored, its owner is told. */
  private async noticeOwner(
    owner: string,
    user: UserRecord,
    answer: PublicUser,
    now: Date,
  ): Promise<Round> {
    const quietSince = new Date(now.getTime() - SIGN_UP_NOTICE_QUIET_SECONDS * 1000);
    const outcome = await this.store.requestSignUpNotice(
      owner,
      user.email,
      newMailRequest(MailRequestKind.SIGN_UP_ATTEMPT),
      now.toISOString(),
      quietSince.toISOString(),
    );
    return outcome === 'CHANGED' ? { retry: true } : { answer };
  }
}

function mailRequestFields(): Pick<UserRecord, 'mailRequestId' | 'mailRequestKind'> {
  const request = newMailRequest(MailRequestKind.ACTIVATION);
  return { mailRequestId: request.id, mailRequestKind: request.kind };
}

type Holder =
  { readonly state: 'FREE' } | { readonly state: 'PENDING' | 'ACTIVE'; readonly username: string };

/**
 * Whose the address is, for `registrant` (the account being written): nobody's when there
 * is no claim, it expired, or it is the registrant's own (a stale claim of the expired
 * account the registration overwrites, or the typo fix keeping its address); a pending
 * account's while it has an expiry; otherwise an active account's.
 */
function claimHolder(claim: EmailClaim | undefined, now: Date, registrant: UserRecord): Holder {
  if (!claim || claim.username === registrant.username) return { state: 'FREE' };
  if (claim.expiresAt === undefined) return { state: 'ACTIVE', username: claim.username };
  if (claim.expiresAt * 1000 <= now.getTime()) return { state: 'FREE' };
  return { state: 'PENDING', username: claim.username };
}
