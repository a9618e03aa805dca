/**
 * Writes jest's aggregated results to reports/jest-results.json, so that CI (and anyone)
 * can read the counts of the run that `npm test` just made without extra flags.
 */
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

class ResultsFileReporter {
  constructor(globalConfig) {
    this.file = join(globalConfig.rootDir, 'reports', 'jest-results.json');
  }

  onRunComplete(_contexts, results) {
    mkdirSync(join(this.file, '..'), { recursive: true });
    const {
      numPassedTests,
      numFailedTests,
      numPendingTests,
      numTotalTests,
      numFailedTestSuites,
      numRuntimeErrorTestSuites,
    } = results;
    writeFileSync(
      this.file,
      JSON.stringify(
        {
          numPassedTests,
          numFailedTests,
          numPendingTests,
          numTotalTests,
          numFailedTestSuites,
          numRuntimeErrorTestSuites,
        },
        null,
        2,
      ),
    );
  }
}

module.exports = ResultsFileReporter;
