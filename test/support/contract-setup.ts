/**
 * jest's setupFilesAfterEnv: a test whose requests got an answer that breaks the OpenAPI
 * contract fails, naming each answer and what is wrong with it (test/support/openapi-contract.ts
 * checks every answer of an app made by createTestApp or checkedApp).
 */
import { takeViolations } from './contract-log';

function failOnViolations(when: string): void {
  const problems = takeViolations();
  if (problems.length === 0) return;
  throw new Error(
    `${problems.length} ${problems.length === 1 ? 'answer breaks' : 'answers break'} the OpenAPI contract (${when}; the document is built by src/platform/openapi/openapi-document.ts):\n  - ${problems.join('\n  - ')}`,
  );
}

afterEach(() => failOnViolations('during this test or the hooks before it'));
afterAll(() => failOnViolations('in afterEach or afterAll hooks'));
