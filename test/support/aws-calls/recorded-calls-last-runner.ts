/**
 * jest's own runner, in two rounds: every test file but the checks, with their AWS calls
 * recorded (aws-call-log.ts) and the OpenAPI responses their answers exercised
 * (../contract-log.ts), then the checks: the least-privilege one, which proves those
 * calls against the synthesized roles, and the OpenAPI coverage one, which finds every
 * documented response exercised. A check needs everything the run recorded, so it cannot
 * run beside the files that record. Run alone (`npm run test:iam`), a check reads what
 * the last run recorded.
 */
import { rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import TestRunner from 'jest-runner';
import { EXERCISED_RESPONSES_VARIABLE } from '../contract-log';
import { AWS_CALL_LOG_VARIABLE, RUN_MANIFEST, type RunManifest } from './aws-call-log';

/** The test file that proves the recorded calls; it runs after every other. */
export const LEAST_PRIVILEGE_SPEC = join('infra', 'least-privilege.spec.ts');

/** The test file that finds every documented response exercised; it runs after every other. */
export const OPENAPI_COVERAGE_SPEC = join('test', 'api', 'openapi-coverage.spec.ts');

/** The checks, which run after every other test file. */
export const CHECK_SPECS: readonly string[] = [LEAST_PRIVILEGE_SPEC, OPENAPI_COVERAGE_SPEC];

/** Where the recording round logs the OpenAPI responses its answers exercised. */
export const EXERCISED_RESPONSES_DIR = join('reports', 'openapi-responses');

type RunTests = TestRunner['runTests'];

export default class RecordedCallsLastRunner extends TestRunner {
  private readonly rootDir: string;
  private readonly logDir: string;
  private readonly responsesDir: string;

  constructor(...args: ConstructorParameters<typeof TestRunner>) {
    super(...args);
    this.rootDir = args[0].rootDir;
    this.logDir = join(this.rootDir, 'reports', 'aws-calls');
    this.responsesDir = join(this.rootDir, EXERCISED_RESPONSES_DIR);
    // Inherited by the workers, which fork after this, and by their children.
    process.env[AWS_CALL_LOG_VARIABLE] = this.logDir;
    process.env[EXERCISED_RESPONSES_VARIABLE] = this.responsesDir;
  }

  override async runTests(
    ...[tests, watcher, options]: Parameters<RunTests>
  ): ReturnType<RunTests> {
    const isCheck = (path: string) => CHECK_SPECS.includes(relative(this.rootDir, path));
    const recording = tests.filter((test) => !isCheck(test.path));
    const checks = tests.filter((test) => isCheck(test.path));
    if (recording.length > 0) {
      this.startLog(recording.map((test) => relative(this.rootDir, test.path)));
      await super.runTests(recording, watcher, options);
    }
    if (checks.length > 0) await super.runTests(checks, watcher, options);
  }

  private startLog(testFiles: string[]): void {
    rmSync(this.responsesDir, { recursive: true, force: true });
    rmSync(this.logDir, { recursive: true, force: true });
    mkdirSync(this.logDir, { recursive: true });
    const manifest: RunManifest = { testFiles: testFiles.sort() };
    writeFileSync(join(this.logDir, RUN_MANIFEST), JSON.stringify(manifest, null, 2));
  }
}
