/**
 * Decides, before anything heavy is loaded, whether the agent starts in this process. This file
 * must run on any Node version (it is what tells users of an old Node why nothing happens).
 */
import { isMainThread } from 'node:worker_threads';

const LOADED = Symbol.for('@tutor/otel-agent.loaded');

export const MINIMUM_NODE = [22, 15] as const;

export function isSupportedNode(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map((part) => Number.parseInt(part, 10));
  return major > MINIMUM_NODE[0] || (major === MINIMUM_NODE[0] && minor >= MINIMUM_NODE[1]);
}

export type PreflightDecision = { start: true } | { start: false; reason: string; say?: string };

export function preflight(env: NodeJS.ProcessEnv = process.env): PreflightDecision {
  const global = globalThis as Record<symbol, unknown>;
  if (global[LOADED]) return { start: false, reason: 'already loaded in this process' };
  global[LOADED] = true;
  // `--import`/`--require` are passed on to worker threads; the main thread's agent covers them.
  // (node:cluster workers are processes: the agent starts there and answers the primary, health/cluster.ts.)
  if (!isMainThread) return { start: false, reason: 'worker thread' };
  if (!isSupportedNode(process.versions.node)) {
    return {
      start: false,
      reason: 'unsupported Node',
      say: quiet(env)
        ? undefined
        : `Node ${process.versions.node} is older than ${MINIMUM_NODE.join('.')}, which the agent needs; the app runs without telemetry`,
    };
  }
  // The specification: only `true` (any case) disables; another value is a warning once the
  // configuration is read (config/env.ts), and the agent runs.
  if (/^true$/i.test((env.OTEL_SDK_DISABLED ?? '').trim())) {
    return { start: false, reason: 'OTEL_SDK_DISABLED', say: quiet(env) ? undefined : 'OTEL_SDK_DISABLED=true; the agent is off' };
  }
  return { start: true };
}

/** OTEL_LOG_LEVEL asks for no warnings (`none` or `error`); read here before the configuration is. */
function quiet(env: NodeJS.ProcessEnv): boolean {
  return /^(none|error)$/i.test((env.OTEL_LOG_LEVEL ?? '').trim());
}
