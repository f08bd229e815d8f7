// The soak's app: the ESM fixture as users write it, plus one hook for the soak to measure the
// heap's floor. Run with --expose-gc; on SIGUSR2 it runs a full collection and prints the heap and
// RSS that survive it, so the soak's memory verdict measures what is retained (a leak), not where
// the GC sawtooth happened to be when /metrics was scraped.
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  process.stdout.write(JSON.stringify({ gc: { heapUsed, rss } }) + '\n');
});
await import('../fixtures/esm-app.mjs');
