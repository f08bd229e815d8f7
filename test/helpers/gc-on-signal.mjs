// Test-only preload (with --expose-gc): SIGUSR2 runs a full garbage collection and says so on
// stdout, so a test can compare heap gauges that do not depend on when V8 last collected.
let collections = 0;
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  process.stdout.write(`{"gc":${++collections}}\n`);
});
