import {
  ActivationStatus,
  EmailTakenError,
  emailKey,
  type UserRecord,
  UsernameTakenError,
  UserNotFoundError,
  UserStore,
} from '..';

/**
 * The UserStore port in memory, for tests of the core. It keeps the real store's contract:
 * the username and the email key are claimed together or not at all, the username is
 * checked first, and records go in and come out as copies.
 */
export class InMemoryUserStore extends UserStore {
  private readonly users = new Map<string, UserRecord>();
  /** email key → username, like the UserEmail table. */
  private readonly emailClaims = new Map<string, string>();

  async create(user: UserRecord): Promise<void> {
    if (this.users.has(user.username)) throw new UsernameTakenError(user.username);
    const key = emailKey(user.email);
    if (this.emailClaims.has(key)) throw new EmailTakenError();
    this.users.set(user.username, { ...user });
    this.emailClaims.set(key, user.username);
  }

  async findByUsername(username: string): Promise<UserRecord | undefined> {
    const user = this.users.get(username);
    return user ? { ...user } : undefined;
  }

  async markActivated(username: string): Promise<void> {
    const user = this.users.get(username);
    if (!user) throw new UserNotFoundError(username);
    this.users.set(username, { ...user, activationStatus: ActivationStatus.DONE });
  }

  /** Every stored record, for assertions. */
  all(): UserRecord[] {
    return [...this.users.values()].map((user) => ({ ...user }));
  }
}
