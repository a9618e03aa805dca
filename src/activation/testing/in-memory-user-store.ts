import {
  type AccountNoticeClaim,
  type ActivationMailClaim,
  ActivationStatus,
  type ClaimOutcome,
  type EmailClaim,
  EmailTakenError,
  emailKey,
  isExpiredPending,
  legacyEmailKeys,
  type LegacyPassword,
  type LegacyPasswordUpgrade,
  type MailRequest,
  MailRequestKind,
  noticeHoldSince,
  type PasswordChange,
  type PasswordResetMailClaim,
  type Replaced,
  storedEmailKey,
  type NewUserRecord,
  type UserRecord,
  UsernameTakenError,
  UserStore,
} from '..';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** An unsent password-changed notice younger than the hold keeps its place (mail-request.ts). */
const holdsChangedNotice = (user: UserRecord, now: string): boolean =>
  user.mailRequestKind === MailRequestKind.PASSWORD_CHANGED &&
  user.passwordChangedAt !== undefined &&
  user.passwordChangedAt > noticeHoldSince(now);

const NO_RESET_TOKEN = {
  passwordResetTokenHash: undefined,
  passwordResetTokenExpiresAt: undefined,
} as const;

const CLOSED_REQUEST = {
  mailClaimId: undefined,
  mailClaimExpiresAt: undefined,
  mailRequestId: undefined,
  mailRequestKind: undefined,
} as const;

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
  /** username → when a password change last ended its sessions (the real store's marker). */
  private readonly sessionsEnded = new Map<string, string>();

  async create(user: NewUserRecord, replacing?: Replaced): Promise<void> {
    const now = new Date(user.createdAt);
    const existing = this.users.get(user.username);
    if (existing && !isExpiredPending(existing, now)) throw new UsernameTakenError(user.username);
    this.checkNewClaim(user, now, replacing);
    this.takeClaim(user, replacing);
  }

  async updatePending(
    previous: UserRecord,
    next: NewUserRecord,
    replacing?: Replaced,
  ): Promise<void> {
    const now = new Date(next.createdAt);
    const stored = this.users.get(previous.username);
    if (
      !stored ||
      stored.passwordHash !== previous.passwordHash ||
      stored.email !== previous.email ||
      stored.activationStatus === ActivationStatus.DONE ||
      isExpiredPending(stored, now)
    ) {
      throw new UsernameTakenError(next.username);
    }
    const oldKey = storedEmailKey(previous.email);
    if (oldKey === emailKey(next.email)) {
      const claim = this.emailClaims.get(oldKey);
      if (claim && claim.username !== previous.username) throw new EmailTakenError();
    } else {
      const old = this.emailClaims.get(oldKey);
      if (old && old.username !== previous.username) throw new EmailTakenError();
      this.checkNewClaim(next, now, replacing);
      this.emailClaims.delete(oldKey);
    }
    this.takeClaim(next, replacing);
  }

  /** The conditions `create` and `updatePending` put on a new address's claim. */
  private checkNewClaim(user: UserRecord, now: Date, replacing?: Replaced): void {
    const claim = this.emailClaims.get(emailKey(user.email));
    const free = replacing
      ? claim?.username === replacing.username &&
        this.users.get(replacing.username)?.activationStatus !== ActivationStatus.DONE &&
        this.users.has(replacing.username)
      : claim === undefined ||
        claim.username === user.username ||
        (claim.expiresAt !== undefined && claim.expiresAt * 1000 <= now.getTime());
    // Claims under an old key come from before pending accounts expired: always live.
    if (!free || legacyEmailKeys(user.email).some((old) => this.emailClaims.has(old))) {
      throw new EmailTakenError();
    }
  }

  private takeClaim(user: UserRecord, replacing?: Replaced): void {
    if (replacing) this.users.delete(replacing.username);
    this.users.set(user.username, { ...user });
    this.emailClaims.set(emailKey(user.email), {
      username: user.username,
      ...(user.expiresAt === undefined ? {} : { expiresAt: user.expiresAt }),
    });
  }

  async findEmailClaim(email: string): Promise<EmailClaim | undefined> {
    const claim = this.emailClaims.get(emailKey(email));
    return claim ? { ...claim } : undefined;
  }

  async requestMail(username: string, request: MailRequest, now: string): Promise<boolean> {
    const user = this.users.get(username);
    if (!user) return false;
    const open = { mailRequestId: request.id, mailRequestKind: request.kind };
    const noClaim = { mailClaimId: undefined, mailClaimExpiresAt: undefined };
    if (request.kind !== MailRequestKind.ACTIVATION && holdsChangedNotice(user, now)) return false;
    if (request.kind === MailRequestKind.PASSWORD_RESET) {
      if (isExpiredPending(user, new Date(now))) return false;
      this.update(username, { ...open, ...noClaim, ...NO_RESET_TOKEN });
      return true;
    }
    if (request.kind !== MailRequestKind.ACTIVATION) {
      if (user.activationStatus !== ActivationStatus.DONE) return false;
      this.update(username, { ...open, ...noClaim });
      return true;
    }
    if (user.activationStatus === ActivationStatus.DONE || isExpiredPending(user, new Date(now))) {
      return false;
    }
    this.update(username, {
      ...open,
      ...noClaim,
      activationStatus: ActivationStatus.NONE,
      activationTokenHash: undefined,
      activationTokenExpiresAt: undefined,
    });
    return true;
  }

  async requestSignUpNotice(
    owner: string,
    email: string,
    request: MailRequest,
    now: string,
    quietSince: string,
  ): Promise<'REQUESTED' | 'QUIET' | 'CHANGED'> {
    const claim = this.emailClaims.get(emailKey(email));
    if (claim?.username !== owner || claim.expiresAt !== undefined) return 'CHANGED';
    const user = this.users.get(owner);
    if (
      user?.activationStatus !== ActivationStatus.DONE ||
      (user.signUpNoticeRequestedAt !== undefined && user.signUpNoticeRequestedAt > quietSince) ||
      holdsChangedNotice(user, now)
    ) {
      return 'QUIET';
    }
    this.update(owner, {
      mailRequestId: request.id,
      mailRequestKind: request.kind,
      signUpNoticeRequestedAt: now,
      mailClaimId: undefined,
      mailClaimExpiresAt: undefined,
    });
    return 'REQUESTED';
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

  async upgradeLegacyPassword(
    username: string,
    legacy: LegacyPassword,
    passwordHash: string,
  ): Promise<LegacyPasswordUpgrade> {
    const user = this.users.get(username);
    if (
      !user?.legacyPassword ||
      user.passwordHash !== undefined ||
      !user.legacyPassword.matches(legacy.revealForConditionalWrite())
    ) {
      return 'CHANGED';
    }
    this.update(username, { passwordHash, legacyPassword: undefined });
    return 'UPGRADED';
  }

  async claimActivationMail(username: string, claim: ActivationMailClaim): Promise<ClaimOutcome> {
    const refused = this.claimRefusal(username, ActivationStatus.NONE, claim);
    if (refused) return refused;
    this.update(username, {
      mailClaimId: claim.claimId,
      mailClaimExpiresAt: claim.leaseExpiresAt,
      activationTokenHash: claim.tokenHash,
      activationTokenExpiresAt: claim.tokenExpiresAt,
    });
    return { claimed: true };
  }

  async claimAccountNotice(username: string, claim: AccountNoticeClaim): Promise<ClaimOutcome> {
    const refused = this.claimRefusal(username, ActivationStatus.DONE, claim);
    if (refused) return refused;
    this.update(username, { mailClaimId: claim.claimId, mailClaimExpiresAt: claim.leaseExpiresAt });
    return { claimed: true };
  }

  async claimPasswordResetMail(
    username: string,
    claim: PasswordResetMailClaim,
  ): Promise<ClaimOutcome> {
    const user = this.users.get(username);
    if (!user || isExpiredPending(user, new Date(claim.now))) {
      return { claimed: false, reason: 'NOT_FOUND' };
    }
    if (
      user.mailRequestId !== claim.requestId ||
      user.mailRequestKind !== MailRequestKind.PASSWORD_RESET
    ) {
      return { claimed: false, reason: 'NOT_OPEN' };
    }
    if (this.heldByAnother(user, claim)) return { claimed: false, reason: 'HELD' };
    this.update(username, {
      mailClaimId: claim.claimId,
      mailClaimExpiresAt: claim.leaseExpiresAt,
      passwordResetTokenHash: claim.tokenHash,
      passwordResetTokenExpiresAt: claim.tokenExpiresAt,
    });
    return { claimed: true };
  }

  async changePassword(change: PasswordChange): Promise<boolean> {
    const { user: read, proof, request, now } = change;
    const user = this.users.get(read.username);
    if (!user) return false;
    const proven =
      'resetTokenHash' in proof
        ? !isExpiredPending(user, new Date(now)) &&
          user.passwordResetTokenHash === proof.resetTokenHash &&
          user.passwordResetTokenExpiresAt !== undefined &&
          user.passwordResetTokenExpiresAt > now
        : user.activationStatus === ActivationStatus.DONE &&
          user.passwordHash === proof.passwordHash;
    if (!proven) return false;
    this.update(read.username, {
      passwordHash: change.newPasswordHash,
      passwordChangedAt: now,
      activationStatus: ActivationStatus.DONE,
      activatedAt: user.activatedAt ?? now,
      mailRequestId: request.id,
      mailRequestKind: request.kind,
      ...NO_RESET_TOKEN,
      activationTokenHash: undefined,
      activationTokenExpiresAt: undefined,
      mailClaimId: undefined,
      mailClaimExpiresAt: undefined,
      expiresAt: undefined,
      legacyPassword: undefined,
    });
    const key = storedEmailKey(user.email);
    if (this.emailClaims.get(key)?.username === read.username) {
      this.emailClaims.set(key, { username: read.username });
    }
    this.sessionsEnded.set(read.username, now);
    return true;
  }

  /** When `changePassword` last ended the account's sessions (ISO), for assertions. */
  sessionsEndedAt(username: string): string | undefined {
    return this.sessionsEnded.get(username);
  }

  private heldByAnother(user: UserRecord, claim: { claimId: string; now: string }): boolean {
    return (
      user.mailClaimId !== claim.claimId &&
      user.mailClaimExpiresAt !== undefined &&
      user.mailClaimExpiresAt > claim.now
    );
  }

  private claimRefusal(
    username: string,
    status: ActivationStatus,
    claim: { claimId: string; now: string; requestId?: string },
  ): ClaimOutcome | undefined {
    const user = this.users.get(username);
    if (!user) return { claimed: false, reason: 'NOT_FOUND' };
    if (user.activationStatus !== status) return { claimed: false, reason: 'NOT_NONE' };
    if (user.mailRequestId !== claim.requestId) return { claimed: false, reason: 'NOT_OPEN' };
    return this.heldByAnother(user, claim) ? { claimed: false, reason: 'HELD' } : undefined;
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
      ...CLOSED_REQUEST,
    });
    return true;
  }

  async markNoticeSent(username: string, claimId: string): Promise<boolean> {
    const user = this.users.get(username);
    if (user?.mailClaimId !== claimId) return false;
    this.update(username, CLOSED_REQUEST);
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
      ...CLOSED_REQUEST,
      ...NO_RESET_TOKEN,
      expiresAt: undefined,
    });
    const key = storedEmailKey(email);
    const claim = this.emailClaims.get(key);
    if (claim?.username === username) this.emailClaims.set(key, { username });
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
