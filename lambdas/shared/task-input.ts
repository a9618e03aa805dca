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

/** What the send task returned and the record task gets: which claim's mail went out. */
export interface MailedClaim {
  readonly claimId: string;
  readonly sentAt: string;
}

/**
 * `event.mailed` when present: undefined when absent.
 * @throws InvalidTaskInputError when present but not `{claimId, sentAt}` of strings
 */
export function mailedOf(event: unknown): MailedClaim | undefined {
  if (typeof event !== 'object' || event === null || !('mailed' in event)) return undefined;
  const { mailed } = event as { mailed?: unknown };
  const { claimId, sentAt } = (typeof mailed === 'object' && mailed !== null ? mailed : {}) as {
    claimId?: unknown;
    sentAt?: unknown;
  };
  if (typeof claimId !== 'string' || claimId === '' || typeof sentAt !== 'string') {
    throw new InvalidTaskInputError(
      `The task input's "mailed" must be {"claimId": string, "sentAt": string}; got ${JSON.stringify(mailed ?? null)}.`,
    );
  }
  return { claimId, sentAt };
}

/** `event.username` when it is a string, else undefined. */
export function usernameOf(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return undefined;
  const { username } = event as { username?: unknown };
  return typeof username === 'string' ? username : undefined;
}
