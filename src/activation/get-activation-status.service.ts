import type { ActivationStatus } from './activation-status';
import { UserStoreError } from './activation.errors';
import { usernameProblems } from './user-rules';
import type { UserStore } from './user-store.port';

/**
 * Use case: the state machine's first step. Keeps the original contract: the status
 * string, or `""` for an unknown user or an empty username.
 */
export class GetActivationStatusService {
  constructor(private readonly store: UserStore) {}

  /** @throws UserStoreError when the store fails (retryable) */
  async statusOf(username: string): Promise<ActivationStatus | ''> {
    // A username no user can have is unknown; DynamoDB would refuse an empty or huge key.
    if (usernameProblems(username).length > 0) return '';
    try {
      const user = await this.store.findByUsername(username);
      return user?.activationStatus ?? '';
    } catch (error) {
      throw new UserStoreError({ cause: error });
    }
  }
}
