// Builds the published agent: one CommonJS file, dist/register.js, with the OpenTelemetry
// packages inside. Loading one file instead of ~200 small ones roughly halves the agent's start-up
// time and saves memory; code for tracing, Sentry and the AI meters is in the file but only runs
// when the agent `require`s it. Kept outside the bundle:
// - import-in-the-middle: Node loads its ESM hook files by path;
// - require-in-the-middle: it patches Node's module loader and is small;
// - @sentry/*: the Sentry code resolves files inside @sentry/node at run time.
import { build } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: ['register.ts'],
  outfile: 'dist/register.js',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  external: ['import-in-the-middle', 'import-in-the-middle/*', 'require-in-the-middle', '@sentry/*'],
  logLevel: 'warning',
  legalComments: 'eof',
});
// The preload entry exports nothing; its types say so.
writeFileSync('dist/register.d.ts', 'export {};\n');
