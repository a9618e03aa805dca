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
  roots: ['<rootDir>/src', '<rootDir>/lambdas', '<rootDir>/test'],
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
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  reporters: ['default', '<rootDir>/test/support/results-file-reporter.js'],
  testTimeout: 30_000,
  maxWorkers: 2,
};
