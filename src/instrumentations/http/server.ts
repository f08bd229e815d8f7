/**
 * HTTP server RED metrics from Node's built-in diagnostics channels: no patching, so it works the
 * same for ESM and CommonJS apps, for http and https, and for any framework on top of them.
 * Costs one timestamp per request and one record at the end.
 */
import * as dc from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { guard } from '../../lifecycle/guard';
import { agentServers } from '../../lifecycle/internal';
import type { HttpServerMetrics } from '../../metrics/http-metrics';
import { methodLabel, routeLabel } from '../../metrics/route';
import { schemeOf } from './utils';

const STARTED_AT = Symbol('otel-agent.startedAt');

type TimedRequest = IncomingMessage & { [STARTED_AT]?: number; originalUrl?: string };

interface ServerChannelMessage {
  request: TimedRequest;
  response: ServerResponse;
  server: object;
}

/** Finds the framework's route template for a request, if a framework matched one. */
export type RouteTemplateLookup = (request: IncomingMessage) => string | undefined;

export function instrumentHttpServer(metrics: HttpServerMetrics, templateOf: RouteTemplateLookup): void {
  dc.subscribe(
    'http.server.request.start',
    guard('http server start', (message: unknown) => {
      const { request, server } = message as ServerChannelMessage;
      if (agentServers.has(server)) return;
      request[STARTED_AT] = performance.now();
    }),
  );

  dc.subscribe(
    'http.server.response.finish',
    guard('http server finish', (message: unknown) => {
      const { request, response } = message as ServerChannelMessage;
      const startedAt = request[STARTED_AT];
      if (startedAt === undefined) return;
      const statusCode = response.statusCode;
      metrics.record({
        method: methodLabel(request.method),
        route: routeLabel(templateOf(request), request.originalUrl ?? request.url, statusCode),
        statusCode,
        seconds: (performance.now() - startedAt) / 1000,
        scheme: metrics.recordsScheme ? schemeOf(request) : undefined,
      });
    }),
  );

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
