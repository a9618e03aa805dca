/**
 * Writes jest's aggregated results to reports/jest-results.json, so that CI (and anyone)
 * can read the counts of the run that `npm test` just made without extra flags.
 */
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const COUNTS = [
  'numPassedTests',
  'numFailedTests',
  'numPendingTests',
  'numTotalTests',
  'numFailedTestSuites',
  'numRuntimeErrorTestSuites',
];

class ResultsFileReporter {
  constructor(globalConfig) {
    this.file = join(globalConfig.rootDir, 'reports', 'jest-results.json');
  }

  onRunComplete(_contexts, results) {
    mkdirSync(join(this.file, '..'), { recursive: true });
    const counts = Object.fromEntries(COUNTS.map((key) => [key, results[key]]));
    writeFileSync(this.file, JSON.stringify(counts, null, 2));
  }
}

module.exports = ResultsFileReporter;
