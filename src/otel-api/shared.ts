/**
 * The `@opentelemetry/api` every part of the agent uses (build.mjs points each
 * `import ... from '@opentelemetry/api'` in the bundle here): the copy installed beside the agent
 * (a peer dependency, so npm shares it with the app), when it is newer than the bundled one; the
 * bundled copy otherwise (no copy installed, or one of the same version or older).
 *
 * Why: the API's globals (tracer and meter providers, context manager, propagator) are shared
 * through one registry per major version, which a copy accepts only if it was registered by the
 * same or a newer minor version. Registered by the newest copy in the process, they are seen by
 * the app's spans and instruments whichever 1.x (1.3 or later: the first with metrics) it uses.
 * A copy of the same version registers exactly what the installed one would, and the registry is
 * found through a global symbol, not the module: the bundled copy is then used, since loading the
 * installed one (some fifty small CommonJS files) cost about 7 MB of RSS and 20 ms at start-up.
 * What is not shared through the registry are the copies' own objects: ROOT_CONTEXT,
 * INVALID_SPAN_CONTEXT, the non-recording span class. App code comparing those by identity
 * (`=== ROOT_CONTEXT`, `instanceof`) against the agent's never matched with an older installed
 * copy either; nothing in the API's contract promises it.
 *
 * CommonJS on purpose (require and module.exports, no import statement): the bundle's named
 * imports of '@opentelemetry/api' then read the properties of whichever copy is exported.
 */
type Api = typeof import('@opentelemetry/api');
const { readFileSync } = require('node:fs') as typeof import('node:fs');
const path = require('node:path') as typeof import('node:path');
const { newerSameMajor } = require('./version') as typeof import('./version');

/** Written by build.mjs: the bundled copy's version. */
declare const __BUNDLED_OTEL_API_VERSION__: string;

const PACKAGE = ['@opentelemetry', 'api'].join('/'); // not a literal: esbuild leaves this require to run time

function installedApi(): Api | undefined {
  try {
    const entry = require.resolve(PACKAGE);
    const version = versionOf(entry);
    if (version === undefined || !newerSameMajor(version, __BUNDLED_OTEL_API_VERSION__)) return undefined;
    return require(entry) as Api;
  } catch {
    return undefined;
  }
}

/** The version in the package.json above a resolved entry file. */
function versionOf(entry: string): string | undefined {
  for (let dir = path.dirname(entry); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === PACKAGE) return pkg.version;
    } catch {
      // no package.json here: go up
    }
  }
  return undefined;
}

module.exports = installedApi() ?? (require('@opentelemetry/api') as Api);
