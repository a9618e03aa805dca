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

/**
 * Errors of the activation-mail task. Their `name` is what a state machine's Retry and
 * Catch match on (Lambda reports it as the error type), so renaming one is a breaking
 * change of the `.asl.json`.
 */

/** Another attempt holds the send claim and its lease has not ended; retry later. */
export class ActivationMailInProgressError extends DomainError {
  readonly code = 'ACTIVATION_MAIL_IN_PROGRESS';
  constructor(readonly username: string) {
    super(`An activation mail for '${username}' is being sent by another attempt.`);
  }
}

/** SES did not take the mail (or we cannot tell whether it did); retryable. */
export class MailDeliveryError extends DomainError {
  readonly code = 'MAIL_DELIVERY_FAILED';
  constructor(
    readonly username: string,
    /** True when SES may have sent it: the claim is then kept until its lease ends. */
    readonly outcomeUnknown: boolean,
    options?: { cause?: unknown },
  ) {
    super(
      outcomeUnknown
        ? `Sending the activation mail for '${username}' failed with an unknown outcome; a retry resends after the lease ends.`
        : `The mail service refused the activation mail for '${username}'.`,
      options,
    );
  }
}

/** The store failed under a task (throttling, network); retryable. */
export class UserStoreError extends DomainError {
  readonly code = 'USER_STORE_FAILED';
  constructor(options?: { cause?: unknown }) {
    super('The user store failed; try again.', options);
  }
}

/** The user's link base is not on the configured allow-list: never mail it. Not retryable. */
export class ActivationUrlBaseNotAllowedError extends DomainError {
  readonly code = 'ACTIVATION_URL_BASE_NOT_ALLOWED';
  constructor(readonly activationUrlBase: string) {
    super(`The activation URL base '${activationUrlBase}' is not on the allow-list.`);
  }
}

/**
 * The user's stored address is one mail cannot be delivered to (`deliveryAddress`): an item
 * from before the rules refused non-ASCII local parts. Never mail it; not retryable. The
 * address is not in the message: it is personal data and would end up in logs.
 */
export class EmailAddressNotDeliverableError extends DomainError {
  readonly code = 'EMAIL_ADDRESS_NOT_DELIVERABLE';
  constructor(readonly username: string) {
    super(`The email address of '${username}' cannot be delivered to; no mail is sent.`);
  }
}

/**
 * Unknown user, wrong token or expired token: deliberately one error, so a link reveals
 * nothing about which accounts exist.
 */
export class InvalidActivationLinkError extends DomainError {
  readonly code = 'ACTIVATION_LINK_INVALID';
  constructor() {
    super('This activation link is not valid or has expired.');
  }
}

/** Unknown user, wrong, used or expired reset token: one error, so none can be told apart. */
export class InvalidPasswordResetLinkError extends DomainError {
  readonly code = 'PASSWORD_RESET_LINK_INVALID';
  constructor() {
    super('This password-reset link is not valid, was used already, or has expired.');
  }
}

/** A signed-in password change whose current password is wrong. */
export class WrongPasswordError extends DomainError {
  readonly code = 'WRONG_PASSWORD';
  constructor() {
    super('The current password is wrong.');
  }
}
