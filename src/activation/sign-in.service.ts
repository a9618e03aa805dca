import { ActivationStatus } from './activation-status';
import { AccountNotActivatedError, InvalidCredentialsError } from './activation.errors';
import type { PasswordHasher } from './password-hasher';
import type { Clock } from './clock.port';
import { isExpiredPending, type PublicUser, toPublicUser } from './user';
import { normaliseUsername } from './user-rules';
import type { UserStore } from './user-store.port';

/** A checked sign-in: the account, and the hash its session is bound to. */
export interface SignedIn {
  readonly user: PublicUser;
  readonly passwordHash: string;
}

/**
 * Use case: check a username and password. Sign-in is refused until the account is DONE,
 * as the original app did; whether an account is activated is only revealed to someone
 * who knows its password.
 */
export class SignInService {
  private decoyHash: Promise<string> | undefined;

  constructor(
    private readonly store: UserStore,
    private readonly hasher: PasswordHasher,
    private readonly clock: Clock,
  ) {}

  /**
   * @throws InvalidCredentialsError for an unknown user or a wrong password
   * @throws AccountNotActivatedError for the right password of an account not yet DONE
   */
  async signIn(username: string, password: string): Promise<SignedIn> {
    const user = await this.store.findByUsername(normaliseUsername(username));
    // An unknown user costs as much time as a known one, so timing does not reveal who exists.
    const passwordMatches = await this.hasher.verify(
      password,
      user?.passwordHash ?? (await this.decoy()),
    );
    // An abandoned sign-up past its expiry is no account, as if DynamoDB had deleted it.
    if (!user || !passwordMatches || isExpiredPending(user, this.clock.now())) {
      throw new InvalidCredentialsError();
    }
    if (user.activationStatus !== ActivationStatus.DONE) throw new AccountNotActivatedError();
    return { user: toPublicUser(user), passwordHash: user.passwordHash };
  }

  private decoy(): Promise<string> {
    this.decoyHash ??= this.hasher.hash('decoy password that no account has');
    return this.decoyHash;
  }
}
