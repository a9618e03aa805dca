/**
 * jest's own runner, in two rounds: every test file but the least-privilege check, with
 * their AWS calls recorded (aws-call-log.ts), then the check, which proves those calls
 * against the synthesized roles. The check needs every call the run made, so it cannot
 * run beside the files that make them. Run alone (`npm run test:iam`), the check reads
 * the calls the last run recorded.
 */
import { rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import TestRunner from 'jest-runner';
import { AWS_CALL_LOG_VARIABLE, RUN_MANIFEST, type RunManifest } from './aws-call-log';

/** The test file that proves the recorded calls; it runs after every other. */
export const LEAST_PRIVILEGE_SPEC = join('infra', 'least-privilege.spec.ts');

type RunTests = TestRunner['runTests'];

export default class RecordedCallsLastRunner extends TestRunner {
  private readonly rootDir: string;
  private readonly logDir: string;

  constructor(...args: ConstructorParameters<typeof TestRunner>) {
    super(...args);
    this.rootDir = args[0].rootDir;
    this.logDir = join(this.rootDir, 'reports', 'aws-calls');
    // Inherited by the workers, which fork after this, and by their children.
    process.env[AWS_CALL_LOG_VARIABLE] = this.logDir;
  }

  override async runTests(
    ...[tests, watcher, options]: Parameters<RunTests>
  ): ReturnType<RunTests> {
    const isCheck = (path: string) => relative(this.rootDir, path) === LEAST_PRIVILEGE_SPEC;
    const recording = tests.filter((test) => !isCheck(test.path));
    const checks = tests.filter((test) => isCheck(test.path));
    if (recording.length > 0) {
      this.startLog(recording.map((test) => relative(this.rootDir, test.path)));
      await super.runTests(recording, watcher, options);
    }
    if (checks.length > 0) await super.runTests(checks, watcher, options);
  }

  private startLog(testFiles: string[]): void {
    rmSync(this.logDir, { recursive: true, force: true });
    mkdirSync(this.logDir, { recursive: true });
    const manifest: RunManifest = { testFiles: testFiles.sort() };
    writeFileSync(join(this.logDir, RUN_MANIFEST), JSON.stringify(manifest, null, 2));
  }
}
