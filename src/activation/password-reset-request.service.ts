import { type AccountIdentifier, requestAccountMail } from './account-mail-request';
import type { Clock } from './clock.port';
import { MailRequestKind } from './mail-request';
import type { UserStore } from './user-store.port';

/**
 * Use case: "I forgot my password". Any live account (active, or pending: completing the
 * reset activates it) gets a PASSWORD_RESET request, which kills its older reset links;
 * the pipeline mails the link. No account gets nothing, and no mail goes to an address
 * without one. The caller answers alike whatever the outcome (OWASP Forgot Password:
 * consistent message, consistent time).
 * @returns whether a request was written
 */
export class PasswordResetRequestService {
  constructor(
    private readonly store: UserStore,
    private readonly clock: Clock,
  ) {}

  async request(input: AccountIdentifier): Promise<boolean> {
    const kind = await requestAccountMail(
      this.store,
      this.clock,
      input,
      () => MailRequestKind.PASSWORD_RESET,
    );
    return kind !== undefined;
  }
}
