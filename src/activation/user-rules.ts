/**
 * Registration rules owned by the core. The HTTP DTOs call these same functions, so an
 * API client and the core can never disagree about what is valid.
 *
 * Each `*Problems` function returns the list of broken rules as human-readable messages
 * (empty when the value is fine); each `normalise*` function is applied before checking
 * and before storing.
 */
import { domainToASCII, domainToUnicode } from 'node:url';
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

/**
 * The address as stored in the user item and shown back: as typed, trimmed, Unicode in
 * NFC (so `x@bücher.example` stays readable). It is never what identifies or reaches the
 * mailbox: that is `deliveryAddress`, and uniqueness is on `emailKey`.
 */
export function normaliseEmail(raw: string): string {
  return raw.normalize('NFC').trim();
}

export const EMAIL_LOCAL_PART_MAX_LENGTH = 64;
export const EMAIL_DOMAIN_MAX_LENGTH = 253;

const EMAIL_INVALID = 'email must be a valid email address';
const EMAIL_TOO_LONG = `email must be at most ${EMAIL_MAX_LENGTH} characters long`;
export const EMAIL_LOCAL_PART_NOT_ASCII =
  "email must use only ASCII letters, digits and !#$%&'*+/=?^_`{|}~.- before the @ " +
  '(mail to other characters cannot be delivered)';
export const EMAIL_DOMAIN_NOT_IDNA =
  'email has a domain after the @ that is not a valid internationalised domain name';

// A pragmatic subset of RFC 5321/5322 on the delivery form: an ASCII dot-atom local part
// (quoted local parts refused on purpose), an LDH host name with a top-level domain of
// letters or Punycode (IP literals and numeric top-level domains refused).
const NON_ASCII = /\P{ASCII}/u;
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const TOP_LEVEL_DOMAIN = /^([a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;
// Before the IDNA mapping: of ASCII only LDH and dots, and no control or space characters.
// `domainToASCII` would silently drop tabs and line breaks and decode `%41`; refused here.
const DOMAIN_INPUT_FORBIDDEN = /[^A-Za-z0-9.\-\u0080-\u{10FFFF}]|[\p{Cc}\p{Z}]/u;

type ParsedEmail =
  | { readonly local: string; readonly domain: string; readonly problems?: undefined }
  | { readonly problems: readonly string[] };

/** A Punycode label that UTS #46 would write differently (or cannot decode) is no domain's. */
function isCanonicalPunycode(label: string): boolean {
  const unicode = domainToUnicode(label);
  return unicode !== label && domainToASCII(unicode) === label;
}

/** The domain in the ASCII form DNS and SES use, or the problem that keeps it from one. */
function asciiDomain(domain: string): { ascii: string } | { problem: string } {
  if (!domain.isWellFormed() || DOMAIN_INPUT_FORBIDDEN.test(domain)) {
    return { problem: EMAIL_INVALID };
  }
  // UTS #46 (WHATWG URL's domain to ASCII): maps (case, compatibility forms), checks
  // (joiners, bidi), encodes Punycode. It lets non-LDH results and bad `xn--` labels
  // through, so both are checked below.
  const ascii = domainToASCII(domain);
  const idna = NON_ASCII.test(domain) || /(^|\.)xn--/i.test(domain);
  if (ascii === '') return { problem: idna ? EMAIL_DOMAIN_NOT_IDNA : EMAIL_INVALID };
  const labels = ascii.split('.');
  if (labels.some((label) => label.startsWith('xn--') && !isCanonicalPunycode(label))) {
    return { problem: EMAIL_DOMAIN_NOT_IDNA };
  }
  const valid =
    ascii.length <= EMAIL_DOMAIN_MAX_LENGTH &&
    labels.length >= 2 &&
    labels.every((label) => DOMAIN_LABEL.test(label)) &&
    TOP_LEVEL_DOMAIN.test(labels[labels.length - 1] ?? '');
  return valid ? { ascii } : { problem: EMAIL_INVALID };
}

/** Checks the address as given (normalised already: see `normaliseEmail`). */
function parseEmail(email: string): ParsedEmail {
  if (email.length > EMAIL_MAX_LENGTH) return { problems: [EMAIL_TOO_LONG] };
  // NFKC folds compatibility forms (fullwidth `ｘ`, mathematical `𝐛`, `＠`) into the
  // characters a mail system delivers to.
  const folded = email.normalize('NFKC');
  const at = folded.lastIndexOf('@');
  if (at <= 0) return { problems: [EMAIL_INVALID] };
  const local = folded.slice(0, at);
  const problems = new Set<string>();
  if (NON_ASCII.test(local)) problems.add(EMAIL_LOCAL_PART_NOT_ASCII);
  else if (local.length > EMAIL_LOCAL_PART_MAX_LENGTH || !LOCAL_PART.test(local)) {
    problems.add(EMAIL_INVALID);
  }
  const domain = asciiDomain(folded.slice(at + 1));
  if ('problem' in domain) problems.add(domain.problem);
  else if (problems.size === 0) {
    // Punycode is longer than the Unicode it stands for.
    if (local.length + 1 + domain.ascii.length > EMAIL_MAX_LENGTH) {
      return { problems: [`${EMAIL_TOO_LONG} with its domain in ASCII (as it is delivered)`] };
    }
    return { local, domain: domain.ascii };
  }
  return { problems: [...problems] };
}

export function emailProblems(email: string): string[] {
  return [...(parseEmail(email).problems ?? [])];
}

/**
 * The address as it will be delivered, the one the mail goes to: compatibility forms
 * folded (NFKC), the domain mapped to ASCII by UTS #46 (`x@𝐛ücher.example` →
 * `x@xn--bcher-kva.example`), the local part as typed. Undefined for an address that
 * cannot be delivered (see `emailProblems`), such as one with a non-ASCII local part:
 * SES has no SMTPUTF8.
 */
export function deliveryAddress(email: string): string | undefined {
  const parsed = parseEmail(normaliseEmail(email));
  return parsed.problems ? undefined : `${parsed.local}@${parsed.domain}`;
}

/**
 * The key under which an address is unique: its delivery address, lower-cased. One key
 * per mailbox: `Ann@Bücher.example`, `ann@xn--bcher-kva.example` and `ann@𝐛ücher.example`
 * are one. Only ASCII is lower-cased, so no locale can change it.
 * @throws InvalidUserInputError for an address that cannot be delivered
 */
export function emailKey(email: string): string {
  const { local, domain } = deliverable(email);
  return `${local}@${domain}`.toLowerCase();
}

/**
 * The key of an address already stored on a user item: `emailKey` when it can be
 * delivered, else (an item from before the rules, such as a non-ASCII local part) the key
 * the old rules gave it, `legacyEmailKey`. Never throws: stored data is not input.
 */
export function storedEmailKey(email: string): string {
  return deliveryAddress(email)?.toLowerCase() ?? legacyEmailKey(email);
}

/**
 * The key as the rules before one identity per mailbox computed it (NFC, trimmed,
 * lower-cased), under which older `UserEmail` items are stored. For an ASCII address it
 * is `emailKey` (NFC and NFKC leave ASCII alone, and UTS #46 only lower-cases an LDH
 * domain), so it differs only for internationalised domains and compatibility forms.
 */
export function legacyEmailKey(email: string): string {
  return normaliseEmail(email).toLowerCase();
}

/**
 * The old-rule keys an earlier registration of the same mailbox is likely stored under,
 * other than `emailKey`: the one of the address as typed now, and the one of its
 * canonical Unicode form (`x@xn--bcher-kva.example` → `x@bücher.example`). A registration
 * must be refused when a claim exists under any of them. Not found this way: an old claim
 * typed with compatibility forms other than the new one's (`x@𝐛ücher.example` when
 * `x@bücher.example` registers now).
 * @throws InvalidUserInputError for an address that cannot be delivered
 */
export function legacyEmailKeys(email: string): string[] {
  const { local, domain } = deliverable(email);
  const key = `${local}@${domain}`.toLowerCase();
  const candidates = new Set([
    legacyEmailKey(email),
    legacyEmailKey(`${local}@${domainToUnicode(domain)}`),
  ]);
  return [...candidates].filter((candidate) => candidate !== key);
}

function deliverable(email: string): { local: string; domain: string } {
  const parsed = parseEmail(normaliseEmail(email));
  if (parsed.problems) {
    throw new InvalidUserInputError([{ field: 'email', messages: parsed.problems }]);
  }
  return parsed;
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
