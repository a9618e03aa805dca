import { ActivationStatus } from './activation-status';
import type { Clock } from './clock.port';
import type { PasswordHasher } from './password-hasher';
import type { PublicUser, UserRecord } from './user';
import { toPublicUser } from './user';
import { normaliseRegistration, type RegistrationInput } from './user-rules';
import type { UserStore } from './user-store.port';

export interface RegistrationSettings {
  /** `PUBLIC_BASE_URL + "/activate"`, from configuration. */
  readonly activationUrlBase: string;
  /** How long an account may stay pending before it is gone (PENDING_ACCOUNT_TTL_SECONDS). */
  readonly pendingAccountTtlSeconds: number;
}

/**
 * Use case: register a new user in status NONE, pending until `pendingAccountTtlSeconds`
 * from now. The stream then starts the activation mail. A pending account that expired
 * counts as absent: its username and address are free again (the store's conditions).
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
   * @throws UsernameTakenError | EmailTakenError on a conflict
   */
  async register(input: RegistrationInput): Promise<PublicUser> {
    const registration = normaliseRegistration(input);
    const now = this.clock.now();
    const user: UserRecord = {
      username: registration.username,
      email: registration.email,
      name: registration.name,
      passwordHash: await this.hasher.hash(registration.password),
      activationStatus: ActivationStatus.NONE,
      activationUrlBase: this.settings.activationUrlBase,
      createdAt: now.toISOString(),
      expiresAt: Math.floor(now.getTime() / 1000) + this.settings.pendingAccountTtlSeconds,
    };
    await this.store.create(user);
    return toPublicUser(user);
  }
}
