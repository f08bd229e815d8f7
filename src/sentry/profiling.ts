/**
 * Continuous profiling (SENTRY_PROFILE_SESSION_SAMPLE_RATE), through the app's own
 * `@sentry/profiling-node` (an optional peer, like the Sentry SDK: it carries a native V8 CPU
 * profiler with prebuilt binaries). Decided once per process: a process drawn by the rate profiles
 * its main thread from start to shutdown and sends a `profile_chunk` envelope item every 60 s (and
 * the last one when it stops), through the same client and transport as the errors.
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
  return {
    integration,
    start: () => profiler.start(),
    stop: () => profiler.stop(),
    profilerId: () => (typeof profiler._profilerId === 'string' ? profiler._profilerId : undefined),
  };
}
