/**
 * What the contract check (openapi-contract.ts) found: the answers of apps under test that
 * break the OpenAPI document, which contract-setup.ts (run by jest in every test file)
 * fails the running test with; and, in a run that records them (the runner sets
 * EXERCISED_RESPONSES_VARIABLE), which documented response each answer exercised, for
 * test/api/openapi-coverage.spec.ts. Light on imports: every test file loads it.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const violations: string[] = [];

export function recordViolation(problem: string): void {
  violations.push(problem);
}

/** The violations recorded since the last call. */
export function takeViolations(): string[] {
  return violations.splice(0, violations.length);
}

/** The folder the run's processes log exercised responses to, one file per process. */
export const EXERCISED_RESPONSES_VARIABLE = 'CARD_STORE_OPENAPI_RESPONSES_LOG';

/** One answer that conformed: the documented response it was (`200 application/json`). */
export interface ExercisedResponse {
  /** `GET /docs/{asset}` */
  readonly operation: string;
  readonly response: string;
  /** The `code` of an error body. */
  readonly code?: string;
}

export function logExercised(
  exercised: ExercisedResponse,
  env: NodeJS.ProcessEnv = process.env,
): void {
  const dir = env[EXERCISED_RESPONSES_VARIABLE];
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, `${process.pid}.jsonl`), `${JSON.stringify(exercised)}\n`);
}

export function readExercised(dir: string): ExercisedResponse[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.jsonl'))
    .flatMap((file) => readFileSync(join(dir, file), 'utf8').split('\n'))
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ExercisedResponse);
}
