import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';

/**
 * Marks for the agent's own I/O, so that no instrumentation counts or traces it as the app's:
 * the agent's HTTP server, and the short-lived clients its health probes open.
 */
export const agentServers = new WeakSet<object>();

/** Set on a pg client or socket the agent opened itself. */
export const AGENT_INTERNAL = Symbol.for('@tutor/otel-agent.internal');

export function isAgentInternal(target: unknown): boolean {
  return typeof target === 'object' && target !== null && (target as Record<symbol, unknown>)[AGENT_INTERNAL] === true;
}

/**
 * Runs the agent's own I/O (health probes, Sentry's transport) with tracing suppressed, so no
 * span is made for it. Without tracing the context manager is a no-op and this just calls `fn`.
 */
export function runUntraced<T>(fn: () => T): T {
  return context.with(suppressTracing(context.active()), fn);
}
