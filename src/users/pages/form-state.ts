/**
 * What a page's form shows after a failed post: the values to fill in again (never a
 * password), and the API's field errors, each next to its field and, in the error summary
 * at the top of the page, as a link to it. The API names fields by their JSON names
 * (`newPassword must be ...`); a page says the field's label instead.
 */
import { type FieldError, InvalidUserInputError } from '../../activation';
import { ApiException } from '../../platform/api-error';
import { isSameAsMessage } from '../dto/same-as.decorator';

export interface FormState {
  /** Prefix of the form's field ids (`register` → `register-email`): unique on the page. */
  readonly id: string;
  readonly values: Readonly<Record<string, string>>;
  /** Messages by field name, in the order the API gave them. */
  readonly errors: Readonly<Record<string, readonly string[]>>;
  /** Every message with the field it links to, in the form's field order. */
  readonly summary: readonly { readonly field: string; readonly message: string }[];
}

/** A form's fields, in their order on the page, with their labels. */
export type FormFields = Readonly<Record<string, string>>;

export const emptyForm = (id: string, values: Record<string, string> = {}): FormState => ({
  id,
  values,
  errors: {},
  summary: [],
});

/** Form `id` with one message for one field (and no values). */
export const formWithProblem = (id: string, field: string, problem: string): FormState => ({
  ...emptyForm(id),
  errors: { [field]: [problem] },
  summary: [{ field, message: problem }],
});

/** Shown for a failed post without field errors (a form too large, a charset unknown). */
export const UNREADABLE_FORM = 'The form could not be read as it was sent. Please try again.';

/**
 * The state of form `id` with `fields` after `errors`. Values come back only for the
 * fields in `keep` that were strings; errors of fields the form does not have (the body
 * as a whole, an unknown field) go to its first field, and so does UNREADABLE_FORM when
 * there are no field errors at all.
 */
export function failedForm(
  id: string,
  fields: FormFields,
  errors: readonly FieldError[],
  body: unknown,
  keep: readonly string[],
): FormState {
  const names = Object.keys(fields);
  const byField: Record<string, string[]> = {};
  if (errors.length === 0) byField[names[0]!] = [UNREADABLE_FORM];
  for (const error of errors) {
    const field = Object.hasOwn(fields, error.field) ? error.field : names[0]!;
    const label = fields[field]!;
    const messages = error.messages.map((message) =>
      capitalize(withLabel(message, error.field, label)),
    );
    (byField[field] ??= []).push(...messages);
  }
  const summary = names.flatMap((field) =>
    (byField[field] ?? []).map((message) => ({ field, message })),
  );
  return { id, values: keptValues(body, keep), errors: byField, summary };
}

function keptValues(body: unknown, keep: readonly string[]): Record<string, string> {
  if (typeof body !== 'object' || body === null) return {};
  const values: Record<string, string> = {};
  for (const field of keep) {
    const value = (body as Record<string, unknown>)[field];
    if (typeof value === 'string') values[field] = value;
  }
  return values;
}

/** `newPassword must be ...` → `New password must be ...`: the field named as the page does. */
const withLabel = (message: string, field: string, label: string) =>
  message.startsWith(`${field} `) ? `${label}${message.slice(field.length)}` : message;

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** The field errors an exception carries (validation, the core's input rules), or none. */
export function fieldErrorsOf(exception: unknown): readonly FieldError[] {
  return exception instanceof ApiException || exception instanceof InvalidUserInputError
    ? (exception.errors ?? [])
    : [];
}

/**
 * The one message of a single-address form (resend, reset request): `invalid` for a
 * value the rules refuse, UNREADABLE_FORM for a form that could not be read at all.
 */
export const addressProblem = (exception: unknown, invalid: string): string =>
  fieldErrorsOf(exception).length > 0 ? invalid : UNREADABLE_FORM;

/** The message of a confirmation field that is not the same as its password (SameAs). */
export const PASSWORDS_DIFFER_PROBLEM =
  'The two passwords are not the same. Please type them again.';

/** `confirmation`'s SameAs message said as a page says it; its other messages as they are. */
export function withPasswordsDifferProblem(
  errors: readonly FieldError[],
  confirmation: string,
): FieldError[] {
  return errors.map((error) =>
    error.field === confirmation
      ? {
          field: error.field,
          messages: error.messages.map((message) =>
            isSameAsMessage(message, confirmation) ? PASSWORDS_DIFFER_PROBLEM : message,
          ),
        }
      : error,
  );
}
