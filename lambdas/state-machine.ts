/**
 * The activation-mail state machine: one `.asl.json` (JSONPath), executed locally by
 * aws-local-stepfunctions and deployed by CDK. Its Task Resources are placeholders,
 * `${GetActivationStatusFunctionArn}` and `${SendActivationMailFunctionArn}`, filled in by
 * CDK's `definitionSubstitutions` or, locally, by substituteDefinition.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// Imported (not only read) so that the build copies the file next to this module's output.
import definitionTemplate from './send-user-activation-mail.asl.json';

export const STATE_MACHINE_DEFINITION_PATH = join(__dirname, 'send-user-activation-mail.asl.json');

export const DEFAULT_STATE_MACHINE_NAME = 'SF_CardStore_SendUserActivationMail';

export const DEFINITION_PLACEHOLDERS = [
  'GetActivationStatusFunctionArn',
  'SendActivationMailFunctionArn',
] as const;

export type DefinitionPlaceholder = (typeof DEFINITION_PLACEHOLDERS)[number];

/** The values of the placeholders: what CDK passes as `definitionSubstitutions`. */
export type DefinitionSubstitutions = Readonly<Record<DefinitionPlaceholder, string>>;

/** The Task states and which placeholder each one's Resource is. */
export const TASK_STATES = {
  GetActivationStatus: 'GetActivationStatusFunctionArn',
  SendActivationMail: 'SendActivationMailFunctionArn',
  RecordMailSent: 'SendActivationMailFunctionArn',
} as const satisfies Record<string, DefinitionPlaceholder>;

export class DefinitionSubstitutionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DefinitionSubstitutionError';
  }
}

/** The definition as parsed JSON, with its placeholders. */
export const STATE_MACHINE_DEFINITION_TEMPLATE: typeof definitionTemplate = definitionTemplate;

/** The definition's text as stored, with its placeholders (what CDK reads). */
export function readDefinitionTemplate(): string {
  return readFileSync(STATE_MACHINE_DEFINITION_PATH, 'utf8');
}

/**
 * Replaces every `${Name}` as CDK's definitionSubstitutions does (values JSON-escaped).
 * @throws DefinitionSubstitutionError when a value is missing or empty, or the template
 *   has a placeholder this module does not know
 */
export function substituteDefinition(
  template: string,
  substitutions: DefinitionSubstitutions,
): string {
  for (const name of DEFINITION_PLACEHOLDERS) {
    if (!substitutions[name]) {
      throw new DefinitionSubstitutionError(`No value for the placeholder \${${name}}.`);
    }
  }
  return template.replace(/\$\{([^}]*)\}/g, (_match, name: string) => {
    if (!(DEFINITION_PLACEHOLDERS as readonly string[]).includes(name)) {
      throw new DefinitionSubstitutionError(`Unknown placeholder \${${name}} in the definition.`);
    }
    return JSON.stringify(substitutions[name as DefinitionPlaceholder]).slice(1, -1);
  });
}
