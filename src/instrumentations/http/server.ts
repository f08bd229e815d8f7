/**
 * HTTP server RED metrics: a consumer of the request records (http/requests.ts), plus open
 * connections from Node's `net.server.socket` channel. Costs one record read and one
 * aggregate update per request.
 */
import * as dc from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { guard } from '../../lifecycle/guard';
import { agentServers } from '../../lifecycle/internal';
import type { HttpServerMetrics } from '../../metrics/http-metrics';
import { schemeOf } from '../../http/request-facts';
import { methodLabel, routeLabel } from '../../http/route-label';
import type { ServerRequests } from '../../http/requests';

export function meterHttpServer(requests: ServerRequests, metrics: HttpServerMetrics): void {
  requests.consume({
    finish({ request, response, startedAt }) {
      const statusCode = response.statusCode;
      const template = requests.routeTemplate(request);
      metrics.record({
        method: methodLabel(request.method),
        route: routeLabel(template, request.originalUrl ?? request.url, statusCode),
        templated: Boolean(template),
        statusCode,
        seconds: (performance.now() - startedAt) / 1000,
        scheme: metrics.recordsScheme ? schemeOf(request) : undefined,
      });
    },
  });

  dc.subscribe(
    'net.server.socket',
    guard('http server connection', (message: unknown) => {
      const socket = (message as { socket: Socket & { server?: object } }).socket;
      const server = socket.server;
      if (!server || agentServers.has(server) || !isHttpServer(server)) return;
      metrics.connectionOpened();
      socket.once('close', () => metrics.connectionClosed());
    }),
  );
}

/** http.Server and https.Server both listen for 'request'; plain net and tls servers do not. */
function isHttpServer(server: object): boolean {
  const emitter = server as { listenerCount?: (event: string) => number };
  return typeof emitter.listenerCount === 'function' && emitter.listenerCount('request') > 0;
}
