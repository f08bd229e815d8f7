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
 * Runs the agent's own I/O (health probes) outside any trace, once tracing is loaded; until then
 * there is nothing to suppress.
 */
let untracedRunner: <T>(fn: () => T) => T = (fn) => fn();

export function setUntracedRunner(runner: <T>(fn: () => T) => T): void {
  untracedRunner = runner;
}

export function runUntraced<T>(fn: () => T): T {
  return untracedRunner(fn);
}
