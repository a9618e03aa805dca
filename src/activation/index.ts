/**
 * The activation core: framework-free (no Nest, no Lambda, no AWS SDK). Adapters in
 * src/users, src/workers and lambdas/ implement its ports and call its use cases.
 */
export * from './account-activation.service';
export * from './account-notice-mail';
export * from './activation-mail';
export * from './password-reset-mail';
export * from './account-mail-request';
export * from './activation-mail-request.service';
export * from './password-change.service';
export * from './password-reset-request.service';
export * from './activation-status';
export * from './activation-token';
export * from './activation.errors';
export * from './clock.port';
export * from './get-activation-status.service';
export * from './html';
export * from './mail-request';
export * from './mailer.port';
export * from './legacy-password';
export * from './password-check';
export * from './password-hasher';
export * from './registration.service';
export * from './send-activation-mail.service';
export * from './sign-in.service';
export * from './user';
export * from './user-rules';
export * from './user-store.port';
