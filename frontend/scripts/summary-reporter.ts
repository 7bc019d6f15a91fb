// Vitest reporter that ends the run with one plain line, `vitest: N passed, N failed`, which
// CI reads as the test count (next to the default reporter's own output).
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  private line = '';

  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>) {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      if (m.state() === 'failed' && ![...m.children.allTests()].length) failed++; // a file that did not load
    }
    failed += errors.length;
    this.line = `vitest: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
  }

  // The default reporter prints its summary in onFinished, after onTestRunEnd: print ours after it.
  onFinished() {
    if (this.line) console.log(`\n${this.line}`);
  }
}
