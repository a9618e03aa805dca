/**
 * The log of the AWS calls a test run made, one JSON line per call
 * (src/platform/aws/call-observers.ts), for infra/least-privilege.spec.ts to prove against
 * the synthesized roles. Every process of the run appends to a file of its own in one
 * folder: jest's workers, and the child processes that run the Lambda bundles.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  AWS_CALL_OBSERVERS_KEY,
  type ObservedAwsCall,
  observeAwsCalls,
} from '../../../src/platform/aws/call-observers';

/** The folder the run's processes append to; set by the runner, inherited by every child. */
export const AWS_CALL_LOG_VARIABLE = 'CARD_STORE_AWS_CALL_LOG';

/** Written by the runner when the recording starts: which test files recorded. */
export const RUN_MANIFEST = 'run.json';

export interface RunManifest {
  /** The test files of the run, relative to the repository. */
  readonly testFiles: readonly string[];
}

/** A call as logged: with the test that made it, where the process knows it. */
export interface LoggedAwsCall extends ObservedAwsCall {
  /** `path/of.spec.ts › describe › test`; absent for a child process's calls. */
  readonly test?: string;
}

const logFileOf = (dir: string, pid: number) => join(dir, `${pid}.jsonl`);

/** The running test, when jest runs one in this process. */
function currentTest(): string | undefined {
  const state = (globalThis as { expect?: { getState(): jest.MatcherState } }).expect?.getState();
  if (!state?.testPath) return undefined;
  const file = relative(process.cwd(), state.testPath);
  return state.currentTestName ? `${file} › ${state.currentTestName}` : file;
}

/** Appends every call this process reports from now on, when the run records. */
export function recordAwsCalls(env: NodeJS.ProcessEnv = process.env): void {
  const dir = env[AWS_CALL_LOG_VARIABLE];
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const file = logFileOf(dir, process.pid);
  observeAwsCalls((call) => {
    const logged: LoggedAwsCall = { ...call, test: currentTest() };
    appendFileSync(file, `${JSON.stringify(logged)}\n`);
  });
}

/**
 * The same, as JavaScript for a child process that loads a Lambda bundle: it registers on
 * the global list the bundle's copy of call-observers.ts reads, before the bundle loads.
 */
export function childProcessRecorder(): string {
  return `
{
  const dir = process.env[${JSON.stringify(AWS_CALL_LOG_VARIABLE)}];
  if (dir) {
    const { appendFileSync, mkdirSync } = require('node:fs');
    mkdirSync(dir, { recursive: true });
    const file = require('node:path').join(dir, process.pid + '.jsonl');
    const key = Symbol.for(${JSON.stringify(AWS_CALL_OBSERVERS_KEY)});
    (globalThis[key] ??= []).push((call) => appendFileSync(file, JSON.stringify(call) + '\\n'));
  }
}`;
}

export interface AwsCallLog {
  readonly manifest?: RunManifest;
  readonly calls: readonly LoggedAwsCall[];
}

/** Everything the processes of the last recording run appended, and its manifest. */
export function readAwsCallLog(dir: string): AwsCallLog {
  if (!existsSync(dir)) return { calls: [] };
  const files = readdirSync(dir);
  const manifest = files.includes(RUN_MANIFEST)
    ? (JSON.parse(readFileSync(join(dir, RUN_MANIFEST), 'utf8')) as RunManifest)
    : undefined;
  const calls = files
    .filter((file) => file.endsWith('.jsonl'))
    .flatMap((file) => readFileSync(join(dir, file), 'utf8').split('\n'))
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as LoggedAwsCall);
  return { manifest, calls };
}
