import { defineConfig } from 'vitest/config';

// Integration tests spawn real processes against real Postgres, Redis and HTTP servers;
// they run one file at a time so a 2-core machine under load still gives each its CPU.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
  },
});
