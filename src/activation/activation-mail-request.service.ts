import { type AccountIdentifier, requestAccountMail } from './account-mail-request';
import { ActivationStatus } from './activation-status';
import type { Clock } from './clock.port';
import { MailRequestKind } from './mail-request';
import type { UserStore } from './user-store.port';

/** Whose new activation mail is asked for: by the account's address or its username. */
export type ActivationMailRequestInput = AccountIdentifier;

/** What was asked for; the caller answers alike whatever it is. */
export type ActivationMailRequestOutcome =
  /** A pending account: a new activation mail, every older link dead. */
  | 'ACTIVATION'
  /** An active account: an "already active" notice. */
  | 'ALREADY_ACTIVE'
  /** No account (or an expired one), or it changed while asked: no mail. */
  | 'NOTHING';

/**
 * Use case: "send me a new activation mail" (a lost, filtered or expired mail). Writes a
 * mail request on the account; the pipeline mails it. The caller must answer alike
 * whatever the outcome, so that the endpoint tells nobody whether an account exists; the
 * calls it makes are alike too (see account-mail-request.ts).
 */
export class ActivationMailRequestService {
  constructor(
    private readonly store: UserStore,
    private readonly clock: Clock,
  ) {}

  async request(input: ActivationMailRequestInput): Promise<ActivationMailRequestOutcome> {
    const kind = await requestAccountMail(this.store, this.clock, input, (user) =>
      user.activationStatus === ActivationStatus.DONE
        ? MailRequestKind.ALREADY_ACTIVE
        : MailRequestKind.ACTIVATION,
    );
    return kind === MailRequestKind.ACTIVATION || kind === MailRequestKind.ALREADY_ACTIVE
      ? kind
      : 'NOTHING';
  }
}
