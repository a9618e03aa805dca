/**
 * One jest run for everything: unit tests beside the code (src/**\/*.spec.ts) and the API
 * tests against a real DynamoDB Local (test/**\/*.spec.ts), which globalSetup starts in
 * memory on a free port and globalTeardown stops.
 *
 * Run through `npm test`, which starts Node with --experimental-vm-modules: Nest 12 is
 * ESM-only and jest loads it with Node's require(esm) only in that mode.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/lambdas', '<rootDir>/infra', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2023',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  // Every AWS call the components make is recorded, and infra/least-privilege.spec.ts runs
  // last to prove each one allowed by the synthesized roles (test/support/aws-calls/).
  runner: '<rootDir>/test/support/aws-calls/recorded-calls-last-runner.ts',
  setupFiles: ['<rootDir>/test/support/aws-calls/record-aws-calls.ts'],
  // Every answer of an app under test is checked against its OpenAPI document; a test
  // whose requests got an answer that breaks it fails (test/support/openapi-contract.ts).
  setupFilesAfterEnv: ['<rootDir>/test/support/contract-setup.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  reporters: ['default', '<rootDir>/test/support/results-file-reporter.js'],
  testTimeout: 30_000,
  maxWorkers: 2,
  // No test leaves a handle open: each worker's event loop is empty within a few ms of
  // jest's "end" message. But --experimental-vm-modules makes jest keep every test file's
  // module graph alive, so by the end of a run a worker holds 600 MB-1 GB, and merely
  // freeing that (V8 teardown, then the kernel unmapping it) takes 300-500 ms on 2 CPUs,
  // right at jest's default 500 ms, after which it kills the worker and warns of a leak.
  // A real leak (a ref'd timer, socket or server) keeps a worker alive for good and
  // is still reported, only after 2 s instead of 0.5 s.
  workerGracefulExitTimeout: 2_000,
};
