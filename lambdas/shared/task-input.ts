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

/** `event.username` when it is a string, else undefined. */
export function usernameOf(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return undefined;
  const { username } = event as { username?: unknown };
  return typeof username === 'string' ? username : undefined;
}
