/**
 * The agent's own HTTP server: `/metrics`, `/health`, `/ready`, `/live` on one port. It never keeps
 * the process alive (the listener and every connection are unref'd), never counts or traces
 * itself, and a port already in use costs one warning, not the app.
 */
import * as http from 'node:http';
import { agentServers } from '../lifecycle/internal';
import { reportOnce } from '../lifecycle/guard';
import { describeError, log } from '../logging/logger';
import type { Credentials } from './credentials';
import type { HealthService, ProbeAnswer } from './health-service';

export interface AgentServerOptions {
  host: string;
  port: number;
  /** Who may read /metrics and /health (undefined: open); /live and /ready stay open for probes. */
  accepted: Credentials | undefined;
  metrics: (request: http.IncomingMessage, response: http.ServerResponse) => void;
  health: HealthService;
}

export function startAgentServer(options: AgentServerOptions): Promise<http.Server | undefined> {
  const server = http.createServer((request, response) => {
    handle(options, request, response).catch((error: unknown) => {
      reportOnce('agent endpoint', error);
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  agentServers.add(server);
  server.on('connection', (socket) => socket.unref());
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  return new Promise((resolve) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const reason = error.code === 'EADDRINUSE' ? 'the port is already in use' : describeError(error);
      log.warn(
        `metrics and health endpoints are off: cannot listen on ${options.host}:${options.port} (${reason}); set OTEL_EXPORTER_PROMETHEUS_PORT to a free port. The app runs on.`,
      );
      resolve(undefined);
    });
    server.listen(options.port, options.host, () => {
      server.unref();
      resolve(server);
    });
  });
}

async function handle(options: AgentServerOptions, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const path = (request.url ?? '/').split('?')[0];
  if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, { statusCode: 405, body: { error: 'method not allowed' } });
  switch (path) {
    case '/live':
      return send(response, { statusCode: 200, body: { status: 'alive' } });
    case '/ready':
      return send(response, await options.health.ready());
    case '/metrics':
      if (!(await authorized(options.accepted, request))) return unauthorized(response);
      return options.metrics(request, response);
    case '/health':
      if (!(await authorized(options.accepted, request))) return unauthorized(response);
      return send(response, await options.health.health());
    default:
      return send(response, { statusCode: 404, body: { error: 'not found', endpoints: ['/metrics', '/health', '/ready', '/live'] } });
  }
}

function send(response: http.ServerResponse, answer: ProbeAnswer): void {
  const body = JSON.stringify(answer.body);
  response.writeHead(answer.statusCode, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

/** Scheme (case-insensitive) and constant-time comparison live in credentials.ts. */
async function authorized(accepted: Credentials | undefined, request: http.IncomingMessage): Promise<boolean> {
  if (accepted === undefined) return true;
  return accepted.authorize(request.headers.authorization);
}

function unauthorized(response: http.ServerResponse): void {
  response.setHeader('www-authenticate', 'Bearer realm="otel-agent", Basic realm="otel-agent"');
  send(response, { statusCode: 401, body: { error: 'unauthorized' } });
}
