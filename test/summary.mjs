// Prints the run's totals as one plain line ("N passed, N failed, N skipped") after `vitest run`.
import { readFileSync } from 'node:fs';

const results = JSON.parse(readFileSync(new URL('../test-results/vitest.json', import.meta.url), 'utf8'));
const skipped = results.numPendingTests + results.numTodoTests;
console.log(`tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped`);
