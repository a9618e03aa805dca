import type { UserRecord } from './user';

/**
 * Where users live. Implementations must make `create` atomic: the username and the
 * email key (see `emailKey`) are claimed together or not at all, and of two racing
 * registrations of either only one may win.
 */
export abstract class UserStore {
  /**
   * Stores a new user.
   * @throws UsernameTakenError when the username exists
   * @throws EmailTakenError when another user has the same email key
   */
  abstract create(user: UserRecord): Promise<void>;

  abstract findByUsername(username: string): Promise<UserRecord | undefined>;

  /**
   * Sets the status to DONE.
   * @throws UserNotFoundError when there is no such user
   */
  abstract markActivated(username: string): Promise<void>;
}
