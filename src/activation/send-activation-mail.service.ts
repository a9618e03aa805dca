import { randomUUID } from 'node:crypto';
import { renderAccountNotice } from './account-notice-mail';
import { type OutgoingMail, renderActivationMail } from './activation-mail';
import { ActivationStatus } from './activation-status';
import {
  ActivationMailInProgressError,
  ActivationUrlBaseNotAllowedError,
  DomainError,
  EmailAddressNotDeliverableError,
  MailDeliveryError,
  UserNotFoundError,
  UserStoreError,
} from './activation.errors';
import { mintActivationToken } from './activation-token';
import type { Clock } from './clock.port';
import { type AccountNoticeKind, isAccountNoticeKind, MailRequestKind } from './mail-request';
import { passwordResetRequestPage, renderPasswordResetMail } from './password-reset-mail';
import { type Mailer, MailNotSentError } from './mailer.port';
import { deliveryAddress, usernameProblems } from './user-rules';
import type { UserRecord } from './user';
import type { ClaimOutcome, UserStore } from './user-store.port';

/**
 * The longest claim lease configuration accepts. The state machine retries
 * ActivationMailInProgressError for longer than this plus the mail function's timeout
 * (lambdas/state-machine.spec.ts checks it), so a claim always frees up in time.
 */
export const MAX_ACTIVATION_MAIL_LEASE_SECONDS = 240;

export interface ActivationMailSettings {
  /** How long a mailed link activates. */
  readonly tokenTtlSeconds: number;
  /** How long a mailed password-reset link works. */
  readonly passwordResetTokenTtlSeconds: number;
  /**
   * How long a send attempt owns the right to mail a user. Longer than one attempt can
   * take (the Lambda's timeout); shorter than the state machine keeps retrying.
   */
  readonly claimLeaseSeconds: number;
  /**
   * Link bases a mail may point at (the registration API's `/activate`). The first is
   * also the base of an account that has none of its own: a legacy item, whose stored
   * base (from a request's Host header) is never read.
   */
  readonly allowedActivationUrlBases: readonly string[];
}

export type SendActivationMailOutcome =
  /**
   * SES took the mail; MAIL_SENT (or, for a notice, the request's end) is not written yet:
   * recordMailSent does that.
   */
  | {
      readonly sent: true;
      readonly claimId: string;
      readonly sentAt: string;
      /**
       * The mail was not an activation mail (a notice, or a password-reset mail): recording
       * it only closes its request.
       */
      readonly notice: boolean;
    }
  /**
   * Nothing to do: the user is not (any more) in status NONE, or the request is no longer
   * the user's open one (a newer request replaced it, or its mail was recorded).
   */
  | { readonly sent: false; readonly status: ActivationStatus };

export type RecordMailSentOutcome =
  | { readonly recorded: true }
  /** Nothing written: MAIL_SENT is already recorded, or the user moved on (DONE). */
  | { readonly recorded: false; readonly status: ActivationStatus };

const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, '');

/**
 * Use case: send the mail of a user's open mail request, at most once per claim: the
 * activation mail to a NONE user, a password-reset mail to a live account, or the notice
 * an active user's request asks for.
 *
 * 1. Claim the send with a conditional write that also stores the new token's hash.
 *    Of two racing attempts (a duplicated stream record, a retried task) only one wins;
 *    the other gets ActivationMailInProgressError and retries later, by which time the
 *    status is MAIL_SENT and it has nothing to do. The write is idempotent for its own
 *    claim id, so when DynamoDB stalls and the SDK retries it after a lost answer, the
 *    retry takes the claim it already holds instead of waiting out the lease.
 * 2. Send through the Mailer. If SES refused the mail, the claim is released so the
 *    retry can go at once; if the outcome is unknown, the claim is kept until its lease
 *    ends, so a crash or timeout after SES accepted the mail cannot cause a second mail
 *    right away, and cannot leave the user without one for good either.
 * 3. Return the claim. Marking MAIL_SENT is a step of its own (recordMailSent), which the
 *    state machine runs and retries as a state of its own, fed by this result: a failed
 *    write after SES took the mail retries the write, never the mail. What remains is a
 *    process death between SES's accept and this method's return: the claim's lease then
 *    ends and a retry mails again (the one documented window).
 */
export class SendActivationMailService {
  private readonly allowedBases: ReadonlySet<string>;

  constructor(
    private readonly store: UserStore,
    private readonly mailer: Mailer,
    private readonly clock: Clock,
    private readonly settings: ActivationMailSettings,
  ) {
    this.allowedBases = new Set(settings.allowedActivationUrlBases.map(withoutTrailingSlash));
  }

  /**
   * @throws UserNotFoundError, ActivationUrlBaseNotAllowedError,
   *   EmailAddressNotDeliverableError (not retryable)
   * @throws ActivationMailInProgressError, MailDeliveryError, UserStoreError (retryable)
   */
  /**
   * `requestId`: the mail request the execution was started for (absent for executions
   * started before requests had ids). Only the user's open request is mailed.
   */
  async send(username: string, requestId?: string): Promise<SendActivationMailOutcome> {
    // No user has such a name; asking DynamoDB would be a ValidationException, retried.
    if (usernameProblems(username).length > 0) throw new UserNotFoundError(username);
    const user = await this.storeCall(() => this.store.findByUsername(username));
    if (!user) throw new UserNotFoundError(username);
    if (requestId !== undefined && user.mailRequestId === requestId) {
      if (user.mailRequestKind === MailRequestKind.PASSWORD_RESET) {
        return this.sendPasswordReset(user, requestId);
      }
      if (
        user.activationStatus === ActivationStatus.DONE &&
        isAccountNoticeKind(user.mailRequestKind)
      ) {
        return this.sendNotice(user, requestId, user.mailRequestKind);
      }
    }
    if (user.activationStatus !== ActivationStatus.NONE) {
      return { sent: false, status: user.activationStatus };
    }
    const { base, to } = this.destination(user);

    const claim = this.newClaim();
    const { token, tokenHash, tokenExpiresAt } = this.newToken(
      claim,
      this.settings.tokenTtlSeconds,
    );
    const outcome = await this.storeCall(() =>
      this.store.claimActivationMail(username, {
        ...claim,
        tokenHash,
        tokenExpiresAt,
        ...(requestId === undefined ? {} : { requestId }),
      }),
    );
    if (!outcome.claimed) return this.refused(username, outcome);

    const mail = renderActivationMail({
      to,
      name: user.name,
      username: user.username,
      activationUrlBase: base,
      token,
      expiresAt: new Date(tokenExpiresAt),
    });
    return this.deliver(username, claim.claimId, mail, false);
  }

  /** A live account's password-reset mail, for its open request `requestId`. */
  private async sendPasswordReset(
    user: UserRecord,
    requestId: string,
  ): Promise<SendActivationMailOutcome> {
    const { base, to } = this.destination(user);
    const claim = this.newClaim();
    const { token, tokenHash, tokenExpiresAt } = this.newToken(
      claim,
      this.settings.passwordResetTokenTtlSeconds,
    );
    const outcome = await this.storeCall(() =>
      this.store.claimPasswordResetMail(user.username, {
        ...claim,
        requestId,
        tokenHash,
        tokenExpiresAt,
      }),
    );
    if (!outcome.claimed) return this.refused(user.username, outcome);
    const mail = renderPasswordResetMail({
      to,
      name: user.name,
      username: user.username,
      activationUrlBase: base,
      token,
      expiresAt: new Date(tokenExpiresAt),
    });
    return this.deliver(user.username, claim.claimId, mail, true);
  }

  /** An active account's notice, for its open request `requestId`. */
  private async sendNotice(
    user: UserRecord,
    requestId: string,
    kind: AccountNoticeKind,
  ): Promise<SendActivationMailOutcome> {
    const { base, to } = this.destination(user);
    const claim = this.newClaim();
    const outcome = await this.storeCall(() =>
      this.store.claimAccountNotice(user.username, { ...claim, requestId }),
    );
    if (!outcome.claimed) return this.refused(user.username, outcome);
    const mail = renderAccountNotice({
      to,
      name: user.name,
      username: user.username,
      kind,
      siteUrl: new URL('./', base).href,
      passwordResetUrl: passwordResetRequestPage(base),
    });
    return this.deliver(user.username, claim.claimId, mail, true);
  }

  /** A new send attempt's claim: its id, now, and the end of its lease. */
  private newClaim(): { claimId: string; now: string; leaseExpiresAt: string } {
    const now = this.clock.now().getTime();
    return {
      claimId: randomUUID(),
      now: new Date(now).toISOString(),
      leaseExpiresAt: new Date(now + this.settings.claimLeaseSeconds * 1000).toISOString(),
    };
  }

  /** A new link token (for the mail), its hash (for the store) and its end, from the claim's now. */
  private newToken(
    claim: { now: string },
    ttlSeconds: number,
  ): { token: string; tokenHash: string; tokenExpiresAt: string } {
    const { token, hash } = mintActivationToken();
    const expiresAt = new Date(Date.parse(claim.now) + ttlSeconds * 1000).toISOString();
    return { token, tokenHash: hash, tokenExpiresAt: expiresAt };
  }

  /**
   * The allow-listed link base and the address as it is delivered (ASCII domain,
   * compatibility forms folded), never the form stored for display.
   */
  private destination(user: UserRecord): { base: string; to: string } {
    const stored = user.activationUrlBase ?? this.settings.allowedActivationUrlBases[0] ?? '';
    const base = withoutTrailingSlash(stored);
    if (!this.allowedBases.has(base)) throw new ActivationUrlBaseNotAllowedError(stored);
    const to = deliveryAddress(user.email);
    if (to === undefined) throw new EmailAddressNotDeliverableError(user.username);
    return { base, to };
  }

  private async refused(
    username: string,
    outcome: Exclude<ClaimOutcome, { claimed: true }>,
  ): Promise<SendActivationMailOutcome> {
    if (outcome.reason === 'HELD') throw new ActivationMailInProgressError(username);
    if (outcome.reason === 'NOT_FOUND') throw new UserNotFoundError(username);
    const current = await this.storeCall(() => this.store.findByUsername(username));
    if (!current) throw new UserNotFoundError(username);
    return { sent: false, status: current.activationStatus };
  }

  private async deliver(
    username: string,
    claimId: string,
    mail: OutgoingMail,
    notice: boolean,
  ): Promise<SendActivationMailOutcome> {
    try {
      await this.mailer.send(mail);
    } catch (error) {
      if (error instanceof MailNotSentError) {
        // Best effort: if the release fails too, the lease still ends the claim.
        await this.store.releaseActivationMailClaim(username, claimId).catch(() => undefined);
        throw new MailDeliveryError(username, false, { cause: error });
      }
      throw new MailDeliveryError(username, true, { cause: error });
    }
    return { sent: true, claimId, sentAt: this.clock.now().toISOString(), notice };
  }

  /**
   * Records that the mail of claim `claimId` went out: status MAIL_SENT, claim cleared.
   * Safe to repeat: a second call (a retry after a lost answer) finds MAIL_SENT and
   * writes nothing.
   * @throws UserNotFoundError (not retryable); UserStoreError (retryable)
   */
  async recordMailSent(
    username: string,
    claimId: string,
    sentAt: string,
    notice = false,
  ): Promise<RecordMailSentOutcome> {
    if (usernameProblems(username).length > 0) throw new UserNotFoundError(username);
    const marked = await this.storeCall(() =>
      notice
        ? this.store.markNoticeSent(username, claimId)
        : this.store.markMailSent(username, claimId, sentAt),
    );
    if (marked) return { recorded: true };
    const user = await this.storeCall(() => this.store.findByUsername(username));
    if (!user) throw new UserNotFoundError(username);
    return { recorded: false, status: user.activationStatus };
  }

  private async storeCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof DomainError) throw error;
      throw new UserStoreError({ cause: error });
    }
  }
}
