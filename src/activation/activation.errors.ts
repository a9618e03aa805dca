/**
 * Domain errors of the core. Each has a stable `code` that clients may rely on; the HTTP
 * status is chosen at the edge (src/users), never here.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class UsernameTakenError extends DomainError {
  readonly code = 'USERNAME_TAKEN';
  constructor(readonly username: string) {
    super(`The username '${username}' is already taken.`);
  }
}

export class EmailTakenError extends DomainError {
  readonly code = 'EMAIL_TAKEN';
  constructor() {
    // The address is not echoed: it is personal data and would end up in logs.
    super('An account with this email address already exists.');
  }
}

/** Unknown user or wrong password: deliberately the same error, so neither can be told apart. */
export class InvalidCredentialsError extends DomainError {
  readonly code = 'INVALID_CREDENTIALS';
  constructor() {
    super('Username or password is wrong.');
  }
}

export class AccountNotActivatedError extends DomainError {
  readonly code = 'ACCOUNT_NOT_ACTIVATED';
  constructor() {
    super('This account is not activated yet. Follow the link in the activation mail first.');
  }
}

export class UserNotFoundError extends DomainError {
  readonly code = 'USER_NOT_FOUND';
  constructor(readonly username: string) {
    super(`No user '${username}'.`);
  }
}

export interface FieldError {
  readonly field: string;
  readonly messages: readonly string[];
}

/** Input that breaks a rule of the core (the edge normally catches it first, with the same rules). */
export class InvalidUserInputError extends DomainError {
  readonly code = 'VALIDATION_FAILED';
  constructor(readonly errors: readonly FieldError[]) {
    super(
      `Invalid input: ${errors.map((e) => `${e.field}: ${e.messages.join('; ')}`).join(' | ')}`,
    );
  }
}

/** The store could not settle a write in time (heavy contention on the same keys); retryable. */
export class StoreBusyError extends DomainError {
  readonly code = 'STORE_BUSY';
  constructor(options?: { cause?: unknown }) {
    super('The user store is busy with conflicting writes; try again.', options);
  }
}
