/**
 * The account lifecycle: NONE (registered, no mail yet) → MAIL_SENT (a mail with a live
 * link went out) → DONE (activated; terminal).
 */
export const ActivationStatus = {
  NONE: 'NONE',
  MAIL_SENT: 'MAIL_SENT',
  DONE: 'DONE',
} as const;

export type ActivationStatus = (typeof ActivationStatus)[keyof typeof ActivationStatus];

export function isActivationStatus(value: unknown): value is ActivationStatus {
  return typeof value === 'string' && Object.values<string>(ActivationStatus).includes(value);
}
