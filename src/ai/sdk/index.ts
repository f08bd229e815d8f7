/**
 * Hooks the `openai` and `@anthropic-ai/sdk` clients of the majors versions.ts lists (another
 * major is left alone, and its fetch calls are counted by the HTTP observer). Both are generated
 * from the same template: a client class whose `post(path, options)` starts every API call, `makeRequest` runs
 * it with its retries, and `fetchWithTimeout` makes each HTTP attempt; the call's `APIPromise`
 * parses the response when the app awaits it (`parse()`), or hands over the raw `Response`
 * (`asResponse()`). The agent wraps those four methods on the client's prototype and nothing else:
 *
 * - client.ts: `post`, `makeRequest`, `fetchWithTimeout` on the client class;
 * - api-promise.ts: `parse` and `asResponse` on the APIPromise class;
 * - stream.ts: the `iterator` of a parsed Stream, wrapped on that Stream object;
 * - request-rewrite.ts: `stream_options.include_usage` on an allow-listed host, and its undoing;
 * - call.ts: the call those hooks report to, its states, and when and how its Generation ends.
 *
 * The app gets back the same objects it would without the agent.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { onPackageLoad } from '../../instrumentations/module-hooks';
import { log } from '../../logging/logger';
import type { SdkHooks } from './call';
import { patchClientClass } from './client';
import type { AnyFunction, Json } from './values';
import { sdkVerdict } from './versions';

export function instrumentAiSdks(hooks: SdkHooks, packages: string[]): void {
  if (packages.length === 0) return;
  const warned = new Set<string>();
  onPackageLoad(packages, 'AI SDK patch', (exports, packageDir) => {
    const { name, version } = packageFacts(packageDir);
    const verdict = sdkVerdict(name, version);
    if (verdict.hook) {
      patchSdkExports(exports, hooks);
      return;
    }
    // One warning per package and version, however many times (CommonJS and ESM) it loads.
    if (warned.has(verdict.warning)) return;
    warned.add(verdict.warning);
    log.warn(verdict.warning);
  });
}

/** `name` and `version` from the package.json of a loaded package (an npm alias keeps the real name there). */
function packageFacts(packageDir: string | undefined): { name?: unknown; version?: unknown } {
  if (!packageDir) return {};
  try {
    const parsed = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return {};
    const { name, version } = parsed as { name?: unknown; version?: unknown };
    return { name, version };
  } catch {
    return {};
  }
}

/** Patches the client classes a package exports (CommonJS exports or an ESM default). */
export function patchSdkExports(exports: unknown, hooks: SdkHooks): void {
  const seen = new Set<unknown>();
  const visit = (candidate: unknown) => {
    if (typeof candidate !== 'function' || seen.has(candidate)) return;
    seen.add(candidate);
    patchClientClass(candidate as AnyFunction & { prototype?: object }, hooks);
  };
  visit(exports);
  if ((typeof exports === 'object' && exports !== null) || typeof exports === 'function') {
    for (const key of ['default', 'OpenAI', 'AzureOpenAI', 'Anthropic', 'BaseAnthropic']) {
      let value: unknown;
      try {
        value = (exports as Json)[key];
      } catch {
        continue;
      }
      visit(value);
    }
  }
}
