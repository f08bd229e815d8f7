/**
 * The app wins its port. When the app starts listening on the port the agent's endpoints use, the
 * agent gives the port up before the app binds, so the app's `listen` succeeds as it would without
 * the agent. Seen through Node's `net.server.listen` tracing channel, whose `asyncStart` is
 * published at the top of `listen()`, before any bind; closing a listening handle frees the port
 * synchronously, so the app's bind that follows finds it free.
 */
import * as dc from 'node:diagnostics_channel';
import * as net from 'node:net';
import { agentServers } from '../lifecycle/internal';
import { guard } from '../lifecycle/guard';

const LISTEN_START = 'tracing:net.server.listen:asyncStart';

/** Would binding `appPort` on `appHost` collide with the agent bound on `agentHost`:`agentPort`? */
export function portsConflict(agentHost: string, agentPort: number, appHost: string | undefined, appPort: number): boolean {
  if (agentPort === 0 || appPort !== agentPort) return false;
  const a = literal(agentHost);
  const b = literal(appHost);
  // A host name may resolve to anything: only two distinct, specific addresses cannot collide.
  if (a === undefined || b === undefined || a === 'any' || b === 'any') return true;
  return a === b;
}

/** An IP literal, `any` for every address, or undefined for a host name. */
function literal(host: string | undefined): string | undefined {
  if (host === undefined || host === '') return 'any';
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (!net.isIP(bare)) return undefined;
  if (bare === '0.0.0.0' || bare === '::' || /^(0*:)+0*$/.test(bare) || bare === '::ffff:0.0.0.0') return 'any';
  return bare.toLowerCase();
}

/** The port an app's `listen()` asks for, from the normalized options the channel carries; undefined when not a TCP port. */
function requestedPort(options: unknown): { port: number; host: string | undefined } | undefined {
  if (typeof options !== 'object' || options === null) return undefined;
  const { port, host, path, fd, handle, _handle } = options as Record<string, unknown>;
  if (path !== undefined || fd !== undefined || handle !== undefined || _handle !== undefined) return undefined;
  const number = typeof port === 'number' ? port : typeof port === 'string' && /^\d+$/.test(port) ? Number(port) : undefined;
  if (number === undefined || number === 0) return undefined;
  return { port: number, host: typeof host === 'string' ? host : undefined };
}

/**
 * Watches the app's listens until one would take the agent's port; then calls `release` (once)
 * and stops watching. Also keeps a not-yet-bound agent server from binding afterwards: its listen
 * goes through an address lookup first, so the app's bind may come before it.
 */
export function yieldPortToApp(server: net.Server, host: string, configuredPort: number, release: (port: number) => void): () => void {
  let released = false;
  const watcher = guard('port yield', (message: unknown) => {
    const { server: listener, options } = message as { server?: object; options?: unknown };
    if (released || !listener || agentServers.has(listener)) return;
    const wanted = requestedPort(options);
    if (!wanted) return;
    const address = server.address();
    const agentPort = address && typeof address === 'object' ? address.port : configuredPort;
    if (!portsConflict(host, agentPort, wanted.host, wanted.port)) return;
    released = true;
    dc.unsubscribe(LISTEN_START, watcher);
    release(wanted.port);
  });
  dc.subscribe(LISTEN_START, watcher);

  // `_listen2` is the step that binds (Node keeps the name so it can be wrapped); once released,
  // an agent server whose address lookup is still pending never binds.
  const bindable = server as unknown as { _listen2: (...args: unknown[]) => unknown };
  const bind = bindable._listen2;
  if (typeof bind === 'function') {
    bindable._listen2 = function (this: unknown, ...args: unknown[]) {
      if (released) return undefined;
      return bind.apply(this, args);
    };
  }
  /** Stops watching (the agent's server could not bind: there is nothing to give up). */
  return () => {
    if (released) return;
    released = true;
    dc.unsubscribe(LISTEN_START, watcher);
  };
}
