/**
 * Which route of the app spends the tokens: the inbound HTTP request being served where a
 * generation starts.
 *
 * A diagnostics-channel subscriber cannot wrap the request handler in `AsyncLocalStorage.run`, but
 * Node publishes `http.server.request.start` synchronously just before it emits `request`, in the
 * same turn, so `enterWith` from the subscriber sets the store for the handler and everything it
 * starts (timers, promises, I/O callbacks), and Node restores the previous store when the socket's
 * callback returns: the next request on a keep-alive connection gets its own.
 *
 * The request's own events ('data', 'end', 'close', ...) come later from the socket, in the
 * socket's context, and frameworks go on with the handler inside them (a body parser calls the
 * route from its 'end' listener). So the agent also runs a tracked request's listeners inside its
 * store, as OpenTelemetry's HTTP instrumentation binds them to its context. Code continued from
 * `await`, timers and the request's events keeps the route; a callback that a library calls from
 * its own socket (without propagating async context) does not, and its generations get
 * `__none__`. It works with tracing on or off; the route is computed when the generation starts,
 * once the framework has matched its template.
 */
import * as dc from 'node:diagnostics_channel';
import { AsyncLocalStorage } from 'node:async_hooks';
import { IncomingMessage } from 'node:http';
import { guard } from '../lifecycle/guard';
import { agentServers } from '../lifecycle/internal';
import { routeLabel } from '../metrics/route';
import { NO_ROUTE } from './metrics';

const TRACKED = Symbol('otel-agent.aiTrackedRequest');

type RoutedRequest = IncomingMessage & { originalUrl?: string; [TRACKED]?: true };

const inbound = new AsyncLocalStorage<RoutedRequest>();
let tracking = false;

export function trackInboundRequests(): void {
  if (tracking) return;
  tracking = true;
  dc.subscribe(
    'http.server.request.start',
    guard('AI route tracking', (message: unknown) => {
      const { request, server } = message as { request: RoutedRequest; server: object };
      if (agentServers.has(server)) return;
      request[TRACKED] = true;
      inbound.enterWith(request);
    }),
  );
  const proto = IncomingMessage.prototype as unknown as { emit: (this: RoutedRequest, ...args: unknown[]) => boolean };
  const originalEmit = proto.emit;
  proto.emit = function emit(this: RoutedRequest, ...args: unknown[]): boolean {
    if (this[TRACKED] !== true || inbound.getStore() === this) return originalEmit.apply(this, args);
    return inbound.run(this, () => originalEmit.apply(this, args));
  };
}

/** The route label (before the cap) of the request being served here, or NO_ROUTE. */
export function currentRoute(templateOf: (request: IncomingMessage) => string | undefined): string {
  const request = inbound.getStore();
  if (!request) return NO_ROUTE;
  return routeLabel(templateOf(request), request.originalUrl ?? request.url, 200);
}
