// Preloaded by profile.mjs: at exit, writes to stderr one JSON line with the CommonJS files the
// process loaded (the agent and its dependencies are CommonJS), for a per-package census.
import { createRequire } from 'node:module';
import { statSync } from 'node:fs';

const require = createRequire(import.meta.url);
process.on('exit', () => {
  const files = Object.keys(require.cache).map((file) => {
    let bytes = 0;
    try {
      bytes = statSync(file).size;
    } catch {
      // not a file
    }
    return [file, bytes];
  });
  process.stderr.write(`\n{"moduleCensus":${JSON.stringify(files)}}\n`);
});
