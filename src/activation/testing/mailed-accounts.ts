/**
 * Accounts as the mail-request specs start from, at MAILED_ACCOUNTS_NOW: pending with its
 * activation mail sent, or fresh from registration. Import it only from spec files.
 */
import { ActivationStatus, type NewUserRecord } from '..';

export const MAILED_ACCOUNTS_NOW = '2026-01-15T10:00:00.000Z';
const nowSeconds = Date.parse(MAILED_ACCOUNTS_NOW) / 1000;

/** A pending account whose activation mail went out: MAIL_SENT with a live token. */
export const pending = (changes: Partial<NewUserRecord> = {}): NewUserRecord => ({
  username: 'alice',
  email: 'Alice@Bücher.example',
  name: 'Alice Liddell',
  passwordHash: '$fake$00',
  activationStatus: ActivationStatus.MAIL_SENT,
  activationUrlBase: 'https://cards.example/activate',
  createdAt: '2026-01-15T09:00:00.000Z',
  activationTokenHash: 'a'.repeat(64),
  activationTokenExpiresAt: '2026-01-16T09:00:00.000Z',
  activationMailSentAt: '2026-01-15T09:00:05.000Z',
  expiresAt: nowSeconds + 3600,
  ...changes,
});

/** A NONE account without a token, as registration leaves it (before its mail). */
export const fresh = (changes: Partial<NewUserRecord> = {}): NewUserRecord =>
  pending({
    activationStatus: ActivationStatus.NONE,
    activationTokenHash: undefined,
    activationTokenExpiresAt: undefined,
    activationMailSentAt: undefined,
    ...changes,
  });
