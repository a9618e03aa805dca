import {
  type ActivationMailClaim,
  ActivationStatus,
  type ClaimOutcome,
  EmailTakenError,
  emailKey,
  isExpiredPending,
  legacyEmailKeys,
  type UserRecord,
  UsernameTakenError,
  UserStore,
} from '..';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The UserStore port in memory, for tests of the core. It keeps the real store's contract:
 * the username and the email key are claimed together or not at all, a claim under one of
 * the address's old keys (`legacyEmailKeys`) refuses it too, the username is
 * checked first, every status change checks its condition, and records go in and come
 * out as copies.
 */
export class InMemoryUserStore extends UserStore {
  private readonly users = new Map<string, UserRecord>();
  /** email key → username (and the pending account's expiry), like the UserEmail table. */
  private readonly emailClaims = new Map<string, { username: string; expiresAt?: number }>();

  async create(user: UserRecord): Promise<void> {
    const now = new Date(user.createdAt);
    const existing = this.users.get(user.username);
    if (existing && !isExpiredPending(existing, now)) throw new UsernameTakenError(user.username);
    const key = emailKey(user.email);
    const claim = this.emailClaims.get(key);
    const claimLive =
      claim !== undefined &&
      (claim.expiresAt === undefined || claim.expiresAt * 1000 > now.getTime());
    // Claims under an old key come from before pending accounts expired: always live.
    if (claimLive || legacyEmailKeys(user.email).some((old) => this.emailClaims.has(old))) {
      throw new EmailTakenError();
    }
    this.users.set(user.username, { ...user });
    this.emailClaims.set(key, { username: user.username, expiresAt: user.expiresAt });
  }

  /**
   * Items as an older version stored them, without today's rules: a claim under a key
   * given as it is (the old `legacyEmailKey`), or a user item whose address today's rules
   * refuse (no claim is written for it).
   */
  putLegacyEmailClaim(key: string, username: string): void {
    this.emailClaims.set(key, { username });
  }

  putLegacyUser(user: UserRecord): void {
    this.users.set(user.username, { ...user });
  }

  async findByUsername(username: string): Promise<UserRecord | undefined> {
    const user = this.users.get(username);
    return user ? { ...user } : undefined;
  }

  async claimActivationMail(username: string, claim: ActivationMailClaim): Promise<ClaimOutcome> {
    const user = this.users.get(username);
    if (!user) return { claimed: false, reason: 'NOT_FOUND' };
    if (user.activationStatus !== ActivationStatus.NONE) {
      return { claimed: false, reason: 'NOT_NONE' };
    }
    const heldByAnother =
      user.mailClaimId !== claim.claimId &&
      user.mailClaimExpiresAt !== undefined &&
      user.mailClaimExpiresAt > claim.now;
    if (heldByAnother) {
      return { claimed: false, reason: 'HELD' };
    }
    this.update(username, {
      mailClaimId: claim.claimId,
      mailClaimExpiresAt: claim.leaseExpiresAt,
      activationTokenHash: claim.tokenHash,
      activationTokenExpiresAt: claim.tokenExpiresAt,
    });
    return { claimed: true };
  }

  async releaseActivationMailClaim(username: string, claimId: string): Promise<void> {
    if (this.users.get(username)?.mailClaimId !== claimId) return;
    this.update(username, { mailClaimId: undefined, mailClaimExpiresAt: undefined });
  }

  async markMailSent(username: string, claimId: string, sentAt: string): Promise<boolean> {
    const user = this.users.get(username);
    if (user?.mailClaimId !== claimId || user.activationStatus !== ActivationStatus.NONE) {
      return false;
    }
    this.update(username, {
      activationStatus: ActivationStatus.MAIL_SENT,
      activationMailSentAt: sentAt,
      mailClaimId: undefined,
      mailClaimExpiresAt: undefined,
    });
    return true;
  }

  async activate(
    { username, email }: Pick<UserRecord, 'username' | 'email' | 'expiresAt'>,
    tokenHash: string,
    now: string,
  ): Promise<boolean> {
    const user = this.users.get(username);
    if (
      !user ||
      isExpiredPending(user, new Date(now)) ||
      user.activationStatus === ActivationStatus.DONE ||
      user.activationTokenHash !== tokenHash ||
      !user.activationTokenExpiresAt ||
      user.activationTokenExpiresAt <= now
    ) {
      return false;
    }
    this.update(username, {
      activationStatus: ActivationStatus.DONE,
      activatedAt: now,
      mailClaimId: undefined,
      mailClaimExpiresAt: undefined,
      expiresAt: undefined,
    });
    const claim = this.emailClaims.get(emailKey(email));
    if (claim?.username === username) this.emailClaims.set(emailKey(email), { username });
    return true;
  }

  /** The e-mail claim under `key`, for assertions. */
  emailClaim(key: string): { username: string; expiresAt?: number } | undefined {
    const claim = this.emailClaims.get(key);
    return claim ? { ...claim } : undefined;
  }

  /** Every stored record, for assertions. */
  all(): UserRecord[] {
    return [...this.users.values()].map((user) => ({ ...user }));
  }

  private update(username: string, changes: Partial<Mutable<UserRecord>>): void {
    const next: Mutable<UserRecord> = { ...this.users.get(username)!, ...changes };
    for (const key of Object.keys(changes) as (keyof UserRecord)[]) {
      if (next[key] === undefined) delete next[key];
    }
    this.users.set(username, next);
  }
}
