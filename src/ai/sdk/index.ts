/**
 * Hooks the `openai` (v4 to v6) and `@anthropic-ai/sdk` clients. Both are generated from the same
 * template: a client class whose `post(path, options)` starts every API call, `makeRequest` runs
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
import { onPackageLoad } from '../../instrumentations/module-hooks';
import type { SdkHooks } from './call';
import { patchClientClass } from './client';
import type { AnyFunction, Json } from './values';

export function instrumentAiSdks(hooks: SdkHooks, packages: string[]): void {
  if (packages.length === 0) return;
  onPackageLoad(packages, 'AI SDK patch', (exports) => patchSdkExports(exports, hooks));
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
