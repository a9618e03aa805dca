/**
 * The input of the state machine's Lambda tasks: the execution's state, `{"username": ...}`
 * plus what earlier states added. Lambda input is untrusted JSON, so it is read defensively.
 */

/**
 * The task input is not what the state machine sends (a hand-made invocation). Not
 * retryable: the same input fails the same way.
 */
export class InvalidTaskInputError extends Error {
  readonly code = 'INVALID_TASK_INPUT';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTaskInputError';
  }
}

import { MAIL_REQUEST_ID_PATTERN } from '../../src/activation/mail-request';

/** What the send task returned and the record task gets: which claim's mail went out. */
export interface MailedClaim {
  readonly claimId: string;
  readonly sentAt: string;
  /** The mail was an active account's notice (absent in results from before notices). */
  readonly notice: boolean;
}

/**
 * `event.mailed` when present: undefined when absent.
 * @throws InvalidTaskInputError when present but not `{claimId, sentAt}` of strings
 */
export function mailedOf(event: unknown): MailedClaim | undefined {
  if (typeof event !== 'object' || event === null || !('mailed' in event)) return undefined;
  const { mailed } = event as { mailed?: unknown };
  const { claimId, sentAt, notice } = (
    typeof mailed === 'object' && mailed !== null ? mailed : {}
  ) as { claimId?: unknown; sentAt?: unknown; notice?: unknown };
  if (
    typeof claimId !== 'string' ||
    claimId === '' ||
    typeof sentAt !== 'string' ||
    (notice !== undefined && typeof notice !== 'boolean')
  ) {
    throw new InvalidTaskInputError(
      `The task input's "mailed" must be {"claimId": string, "sentAt": string, "notice"?: boolean}; got ${JSON.stringify(mailed ?? null)}.`,
    );
  }
  return { claimId, sentAt, notice: notice === true };
}

/**
 * `event.mailRequestId`: the mail request the execution was started for; undefined when
 * absent (executions started before requests had ids).
 * @throws InvalidTaskInputError when present but not a request id
 */
export function mailRequestIdOf(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null || !('mailRequestId' in event)) return undefined;
  const { mailRequestId } = event as { mailRequestId?: unknown };
  if (typeof mailRequestId !== 'string' || !MAIL_REQUEST_ID_PATTERN.test(mailRequestId)) {
    throw new InvalidTaskInputError(
      `The task input's "mailRequestId" must be a request id; got ${JSON.stringify(mailRequestId ?? null)}.`,
    );
  }
  return mailRequestId;
}

/** `event.username` when it is a string, else undefined. */
export function usernameOf(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return undefined;
  const { username } = event as { username?: unknown };
  return typeof username === 'string' ? username : undefined;
}
