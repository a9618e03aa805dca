/**
 * Registration rules owned by the core. The HTTP DTOs call these same functions, so an
 * API client and the core can never disagree about what is valid.
 *
 * Each `*Problems` function returns the list of broken rules as human-readable messages
 * (empty when the value is fine); each `normalise*` function is applied before checking
 * and before storing.
 */
import { type FieldError, InvalidUserInputError } from './activation.errors';

export const USERNAME_MIN_LENGTH = 3;
export const USERNAME_MAX_LENGTH = 32;
const USERNAME_PATTERN = /^[a-z0-9._-]+$/;

export const NAME_MAX_LENGTH = 100;
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;
export const EMAIL_MAX_LENGTH = 254;

/** Length in Unicode code points, so that "Zoë" and "李小龍" count as people expect. */
function codePoints(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

/**
 * Usernames are case-insensitive: `Alice` registers and signs in as `alice`.
 * Surrounding white space is dropped.
 */
export function normaliseUsername(raw: string): string {
  return raw.trim().toLowerCase();
}

export function usernameProblems(username: string): string[] {
  const problems: string[] = [];
  const length = codePoints(username);
  if (length < USERNAME_MIN_LENGTH || length > USERNAME_MAX_LENGTH) {
    problems.push(
      `username must be ${USERNAME_MIN_LENGTH} to ${USERNAME_MAX_LENGTH} characters long`,
    );
  }
  if (!USERNAME_PATTERN.test(username)) {
    problems.push('username may contain only lowercase letters a-z, digits 0-9, ".", "_" and "-"');
  }
  return problems;
}

/** The address as stored and shown: as typed, trimmed, Unicode in NFC. */
export function normaliseEmail(raw: string): string {
  return raw.normalize('NFC').trim();
}

/** The key under which an address is unique: `Ann@Example.org` and `ann@example.org` are one. */
export function emailKey(email: string): string {
  return normaliseEmail(email).toLowerCase();
}

// A pragmatic subset of RFC 5321/5322: dot-atom local part, host name with a dot-separated
// top-level domain. Quoted local parts and IP-literal domains are refused on purpose.
const LOCAL_PART =
  /^[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~-]+(\.[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;
const DOMAIN_LABEL = /^[\p{L}\p{N}]([\p{L}\p{M}\p{N}-]{0,61}[\p{L}\p{M}\p{N}])?$/u;
const TOP_LEVEL_DOMAIN = /^(\p{L}[\p{L}\p{M}]{1,62}|xn--[a-z0-9-]{1,59})$/iu;

export function emailProblems(email: string): string[] {
  const message = 'email must be a valid email address';
  if (email.length > EMAIL_MAX_LENGTH)
    return [`email must be at most ${EMAIL_MAX_LENGTH} characters long`];
  const at = email.lastIndexOf('@');
  if (at <= 0) return [message];
  const local = email.slice(0, at);
  const labels = email.slice(at + 1).split('.');
  const valid =
    local.length <= 64 &&
    LOCAL_PART.test(local) &&
    labels.length >= 2 &&
    labels.every((label) => DOMAIN_LABEL.test(label)) &&
    TOP_LEVEL_DOMAIN.test(labels[labels.length - 1] ?? '');
  return valid ? [] : [message];
}

/** Names keep their script and letter case; Unicode is brought to NFC and the ends trimmed. */
export function normaliseName(raw: string): string {
  return raw.normalize('NFC').trim();
}

const CONTROL_CHARACTERS = /[\p{Cc}\u2028\u2029]/u;
// A name of only zero-width or format characters would show as nothing.
const VISIBLE_CHARACTER = /[\p{L}\p{N}\p{S}]/u;

export function nameProblems(name: string): string[] {
  const problems: string[] = [];
  const length = codePoints(name);
  if (length < 1 || length > NAME_MAX_LENGTH) {
    problems.push(`name must be 1 to ${NAME_MAX_LENGTH} characters long`);
  }
  if (CONTROL_CHARACTERS.test(name)) {
    problems.push('name must not contain control characters or line breaks');
  }
  if (!name.isWellFormed()) {
    problems.push('name must be valid Unicode text');
  } else if (length > 0 && !VISIBLE_CHARACTER.test(name)) {
    problems.push('name must contain at least one letter, digit or symbol');
  }
  return problems;
}

/**
 * Length is the only rule (NIST SP 800-63B): no composition rules. The password is never
 * trimmed or otherwise changed here; the hasher brings it to NFC.
 */
export function passwordProblems(password: string): string[] {
  const length = codePoints(password);
  if (length < PASSWORD_MIN_LENGTH || length > PASSWORD_MAX_LENGTH) {
    return [`password must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters long`];
  }
  // A lone surrogate would be hashed as U+FFFD, making different passwords equal.
  if (!password.isWellFormed()) return ['password must be valid Unicode text'];
  return [];
}

export interface RegistrationInput {
  readonly username: string;
  readonly email: string;
  readonly name: string;
  readonly password: string;
}

/** Normalises a registration and checks every rule; throws with all broken rules at once. */
export function normaliseRegistration(input: RegistrationInput): RegistrationInput {
  const normalised = {
    username: normaliseUsername(input.username),
    email: normaliseEmail(input.email),
    name: normaliseName(input.name),
    password: input.password,
  };
  const errors: FieldError[] = [
    { field: 'username', messages: usernameProblems(normalised.username) },
    { field: 'email', messages: emailProblems(normalised.email) },
    { field: 'name', messages: nameProblems(normalised.name) },
    { field: 'password', messages: passwordProblems(normalised.password) },
  ].filter((error) => error.messages.length > 0);
  if (errors.length > 0) throw new InvalidUserInputError(errors);
  return normalised;
}
