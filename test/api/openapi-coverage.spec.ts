/**
 * Every response the OpenAPI document promises is one the API really gives: each status of
 * each operation, in each of its media types, was answered by some API test of the run,
 * and passed the contract check (test/support/openapi-contract.ts logs each answer that
 * did). A response no test ever gets is either untested or not a real answer: add the
 * test, or take the response out of the document.
 *
 * It runs after every other test file (recorded-calls-last-runner.ts), on what the run
 * logged; alone, on what the last run logged. Either way that run must have included every
 * API test file (`npm test`, or `npm test -- test/api`).
 */
import { globSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { OpenAPIObject, ResponseObject } from '@nestjs/swagger';
import { createApp } from '../../src/app.setup';
import { buildOpenApiDocument } from '../../src/platform/openapi/openapi-document';
import { readAwsCallLog } from '../support/aws-calls/aws-call-log';
import {
  CHECK_SPECS,
  EXERCISED_RESPONSES_DIR,
} from '../support/aws-calls/recorded-calls-last-runner';
import { readExercised } from '../support/contract-log';
import { testConfig } from '../support/test-app';

const REPO_ROOT = join(__dirname, '..', '..');

/** `POST /activate 400 text/html`, for each documented response and media type. */
function documentedResponses(document: OpenAPIObject): string[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).flatMap(([method, operation]) =>
      Object.entries(
        (operation as { responses: Record<string, ResponseObject> }).responses,
      ).flatMap(([status, response]) => {
        const types = Object.keys(response.content ?? {});
        const operationKey = `${method.toUpperCase()} ${path}`;
        return types.length > 0
          ? types.map((type) => `${operationKey} ${status} ${type}`)
          : [`${operationKey} ${status}`];
      }),
    ),
  );
}

describe('the OpenAPI document, against the answers of the run', () => {
  let document: OpenAPIObject;

  beforeAll(async () => {
    const app = await createApp(testConfig());
    try {
      document = buildOpenApiDocument(app);
    } finally {
      await app.close();
    }
  });

  it('promises only responses some API test got', () => {
    const apiTests = globSync('test/api/*.spec.ts', { cwd: REPO_ROOT })
      .filter((file) => !CHECK_SPECS.includes(file))
      .sort();
    const recorded = readAwsCallLog(join(REPO_ROOT, 'reports', 'aws-calls')).manifest?.testFiles;
    const missing = apiTests.filter((file) => !recorded?.includes(file));
    if (missing.length > 0) {
      throw new Error(
        `The last recorded run left out ${missing.length} of ${apiTests.length} API test files (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''}): run them all (npm test -- test/api) first.`,
      );
    }
    const exercised = new Set(
      readExercised(join(REPO_ROOT, EXERCISED_RESPONSES_DIR)).map(
        ({ operation, response }) => `${operation} ${response}`,
      ),
    );

    expect(exercised.size).toBeGreaterThan(0);
    expect(documentedResponses(document).filter((response) => !exercised.has(response))).toEqual(
      [],
    );
    // It runs last only as one of the runner's checks.
    expect(CHECK_SPECS).toContain(relative(REPO_ROOT, __filename));
  });
});
