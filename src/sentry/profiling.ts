/**
 * Continuous profiling (SENTRY_PROFILE_SESSION_SAMPLE_RATE), through the app's own
 * `@sentry/profiling-node` (an optional peer, like the Sentry SDK: it carries a native V8 CPU
 * profiler with prebuilt binaries). Decided once per process: a process drawn by the rate profiles
 * its main thread from start to shutdown and sends a `profile_chunk` envelope item every 60 s (and
 * the last one when it stops), through the same client and transport as the errors.
 *
 * Exit: the native profiler keeps a ref'd libuv timer for its CPU and memory measurements, which
 * would keep a script alive that would have exited. Once a second (an unref'd timer) the agent asks
 * Node whether anything else keeps the process alive; when nothing does, it stops the profiler (the
 * last chunk is sent by the exit flush) and the process ends as it would have.
 *
 * Linking: Sentry places a span in a profile by the profiler id and the thread. Spans sent to
 * Sentry carry `sentry.profiler_id`, `thread.id` and `thread.name` (spans.ts), error events
 * `contexts.profile.profiler_id` (reporter.ts).
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { threadId, isMainThread } from 'node:worker_threads';
import type { Integration } from '@sentry/core';

export const PROFILING_PACKAGE = '@sentry/profiling-node';
const EXIT_WATCH_MS = 1000;

/**
 * Nothing the app (or Node) holds keeps the event loop alive: the process would end without the
 * profiler. Node lists stdout and stderr (pipes or terminals) among the ref'd resources although
 * an idle one keeps nothing alive, so those two are not counted.
 */
export function onlyTheProfilerKeepsAlive(resources: string[] = process.getActiveResourcesInfo()): boolean {
  let stdio = 2;
  for (const resource of resources) {
    if ((resource === 'PipeWrap' || resource === 'TTYWrap') && stdio > 0) stdio--;
    else return false;
  }
  return true;
}

interface ContinuousProfiler {
  start(): void;
  stop(): void;
  _profilerId?: string;
}

export interface Profiling {
  /** The integration to add to the Sentry client (it attaches the profiler to the client). */
  integration: Integration;
  start(): void;
  stop(): void;
  /** The id Sentry files this process's chunks under, once the profiler is attached. */
  profilerId(): string | undefined;
}

/** The thread attributes Sentry matches spans to profile samples with. */
export const PROFILED_THREAD = { id: String(threadId), name: isMainThread ? 'main' : 'worker' };

/** The package as the app (or the agent's own install) resolves it; undefined when it is not installed. */
export function resolveProfilingPackage(cwd = process.cwd()): string | undefined {
  for (const from of [__filename, path.join(cwd, 'package.json')]) {
    try {
      return createRequire(from).resolve(PROFILING_PACKAGE);
    } catch {
      // not installed there
    }
  }
  return undefined;
}

/** Loads the profiler; throws when the package (or its native binary) cannot be loaded. */
export function loadProfiling(resolved: string): Profiling {
  const { nodeProfilingIntegration } = require(resolved) as { nodeProfilingIntegration: () => Integration & { _profiler?: ContinuousProfiler } };
  const integration = nodeProfilingIntegration();
  const profiler = integration._profiler;
  if (!profiler || typeof profiler.start !== 'function') throw new Error(`${PROFILING_PACKAGE} has no continuous profiler`);
  let watch: NodeJS.Timeout | undefined;
  let running = false;
  const stop = () => {
    if (watch) clearInterval(watch);
    watch = undefined;
    if (!running) return;
    running = false;
    profiler.stop();
  };
  return {
    integration,
    start: () => {
      profiler.start();
      running = true;
      watch = setInterval(() => {
        if (onlyTheProfilerKeepsAlive()) stop();
      }, EXIT_WATCH_MS);
      watch.unref();
    },
    stop,
    profilerId: () => (typeof profiler._profilerId === 'string' ? profiler._profilerId : undefined),
  };
}
