import { defineConfig } from 'vitest/config';

// `npm run soak`: not part of `npm test`; one long run with faults injected every minute.
export default defineConfig({
  test: {
    include: ['test/soak/**/*.soak.ts'],
    testTimeout: 60 * 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
