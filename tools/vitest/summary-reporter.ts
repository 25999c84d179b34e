import type { Reporter, TestModule, Vitest } from 'vitest/node';

/**
 * Prints one closing line that any log reader understands:
 *   Tests: 12 passed, 0 failed, 1 skipped
 * A run that executed no test is a failure, unless --passWithNoTests was given
 * (per-project targets of projects that have no unit tests yet).
 */
export default class SummaryReporter implements Reporter {
  private passWithNoTests = false;

  onInit(vitest: Vitest): void {
    this.passWithNoTests = Boolean(vitest.config.passWithNoTests);
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      const tests = [...mod.children.allTests()];
      for (const t of tests) {
        const state = t.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      // A file that failed to load (syntax error, failing hook) has no test results: count it.
      if (mod.state() === 'failed' && tests.every((t) => t.result().state !== 'failed')) failed++;
    }
    process.stdout.write(`\nTests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
    if (passed + failed === 0 && !this.passWithNoTests) {
      process.stdout.write('No test was executed: treating the run as a failure.\n');
      process.exitCode = 1;
    }
  }
}
