import { ActivationStatus } from './activation-status';
import {
  InvalidPasswordResetLinkError,
  InvalidUserInputError,
  WrongPasswordError,
} from './activation.errors';
import {
  activationTokenMatches,
  hashActivationToken,
  isWellFormedActivationToken,
} from './activation-token';
import type { Clock } from './clock.port';
import { MailRequestKind, newMailRequest } from './mail-request';
import { PasswordCheck } from './password-check';
import type { PasswordHasher } from './password-hasher';
import { isExpiredPending, type PublicUser, toPublicUser } from './user';
import { passwordProblems, usernameProblems } from './user-rules';
import type { PasswordChange, UserStore } from './user-store.port';

/** The account after its password changed, for the session the caller may start. */
export interface ChangedPassword {
  readonly user: PublicUser;
  /** The new hash, which a new session is bound to. */
  readonly passwordHash: string;
}

/**
 * Use cases: set a new password with a reset link, or signed in with the current one.
 * Either way the store's one write sets the Argon2id hash, kills every reset and
 * activation token, ends every session of the account and asks for the "your password
 * was changed" notice (OWASP Forgot Password and Session Management: invalidate sessions
 * on a password change, notify the owner). Nobody is signed in by a reset.
 */
export class PasswordChangeService {
  private readonly passwords: PasswordCheck;

  constructor(
    private readonly store: UserStore,
    private readonly hasher: PasswordHasher,
    private readonly clock: Clock,
  ) {
    this.passwords = new PasswordCheck(store, hasher);
  }

  /**
   * The reset link's form. A pending account becomes active: the link proves the mailbox,
   * and the new password is one only its owner knows.
   * @throws InvalidUserInputError when the new password breaks a rule (field `password`)
   * @throws InvalidPasswordResetLinkError for an unknown user, a wrong, used or expired token
   */
  async reset(username: string, token: string, newPassword: string): Promise<PublicUser> {
    checkNewPassword('password', newPassword);
    if (usernameProblems(username).length > 0 || !isWellFormedActivationToken(token)) {
      throw new InvalidPasswordResetLinkError();
    }
    const user = await this.store.findByUsername(username);
    const now = this.clock.now().toISOString();
    if (
      !user ||
      isExpiredPending(user, new Date(now)) ||
      !activationTokenMatches(token, user.passwordResetTokenHash) ||
      !user.passwordResetTokenExpiresAt ||
      user.passwordResetTokenExpiresAt <= now
    ) {
      throw new InvalidPasswordResetLinkError();
    }
    const changed = await this.change(user, newPassword, {
      resetTokenHash: hashActivationToken(token),
    });
    // Lost a race: the link was used (or killed) between the read and the write.
    if (!changed) throw new InvalidPasswordResetLinkError();
    return changed.user;
  }

  /**
   * Signed in: the current password, then the new one. The caller's own session ends too
   * (every session does); it starts a fresh one with the returned hash.
   * @throws InvalidUserInputError when the new password breaks a rule (field `newPassword`)
   * @throws WrongPasswordError when the current password is wrong (or changed meanwhile)
   */
  async changeSignedIn(
    username: string,
    currentPassword: string,
    newPassword: string,
  ): Promise<ChangedPassword> {
    checkNewPassword('newPassword', newPassword);
    const user = await this.store.findByUsername(username);
    if (!user || user.activationStatus !== ActivationStatus.DONE) throw new WrongPasswordError();
    const passwordHash = await this.passwords.check(user, currentPassword);
    if (passwordHash === undefined) throw new WrongPasswordError();
    const changed = await this.change(user, newPassword, { passwordHash });
    if (!changed) throw new WrongPasswordError();
    return changed;
  }

  private async change(
    user: PasswordChange['user'] & Parameters<typeof toPublicUser>[0],
    newPassword: string,
    proof: PasswordChange['proof'],
  ): Promise<ChangedPassword | undefined> {
    const passwordHash = await this.hasher.hash(newPassword);
    const written = await this.store.changePassword({
      user,
      newPasswordHash: passwordHash,
      proof,
      request: newMailRequest(MailRequestKind.PASSWORD_CHANGED),
      now: this.clock.now().toISOString(),
    });
    if (!written) return undefined;
    return {
      user: { ...toPublicUser(user), activationStatus: ActivationStatus.DONE },
      passwordHash,
    };
  }
}

function checkNewPassword(field: string, password: string): void {
  const messages = passwordProblems(password);
  if (messages.length > 0) throw new InvalidUserInputError([{ field, messages }]);
}
