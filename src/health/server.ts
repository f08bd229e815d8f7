/**
 * The agent's own HTTP server: `/metrics`, `/health`, `/ready`, `/live` on one port. It never keeps
 * the process alive (the listener and every connection are unref'd), never counts or traces
 * itself, and a port already in use costs one warning, not the app.
 *
 * The port is open to whoever reaches the pod, so nothing a client does there may cost the app:
 * - at most `maxConnections` sockets (more are closed on accept), each one dropped when it sends
 *   nothing for 5 s, its headers take over 5 s, its request over 10 s, or its answer stays unread
 *   for 10 s; the deadlines are checked every second, not Node's default 30;
 * - one request at a time per connection: a pipelined request waits until the previous answer
 *   has reached the kernel, and a client that pipelines more than a few without reading its
 *   answers is disconnected, so no queue of rendered responses builds up in memory;
 * - request headers up to 8 KiB, bodies never read (GET and HEAD only; a request carrying a body
 *   is answered and its connection closed);
 * - one rendering of `/metrics` shared by concurrent scrapes (shared-render.ts);
 * - the app wins its port (port-yield.ts);
 * - in a cluster primary with workers, the endpoints answer for the whole cluster (cluster.ts).
 */
import * as http from 'node:http';
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { Socket } from 'node:net';
import { agentServers } from '../lifecycle/internal';
import { reportOnce } from '../lifecycle/guard';
import { describeError, log } from '../logging/logger';
import type { ClusterAnswers } from './cluster';
import type { Credentials } from './credentials';
import type { HealthService, ProbeAnswer } from './health-service';
import { METRICS_CONTENT_TYPE, prometheusText } from './metrics-text';
import { yieldPortToApp } from './port-yield';
import { sharedRender } from './shared-render';

export interface AgentServerOptions {
  host: string;
  port: number;
  /** Who may read /metrics and /health (undefined: open); /live and /ready stay open for probes. */
  accepted: Credentials | undefined;
  /** The Prometheus exporter whose text `/metrics` serves (rendered by metrics-text.ts); undefined: /metrics is not served. */
  metrics: PrometheusExporter | undefined;
  health: HealthService;
  /** Connections open at once; more are closed on accept. */
  maxConnections: number;
  /** Answers for the cluster's workers too, while this process has any. */
  cluster?: ClusterAnswers;
}

export const LIMITS = {
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  /** How often Node checks the two deadlines above (its default is 30 s). */
  checkEveryMs: 1_000,
  keepAliveTimeoutMs: 5_000,
  /** An answer that makes no progress for this long (its client stopped reading) ends its connection. */
  unreadAnswerTimeoutMs: 10_000,
  maxHeaderBytes: 8 * 1024,
  /** Requests a connection may have waiting behind the one being answered. */
  maxPipelined: 4,
  /** Renders of /metrics start at least this far apart (and at least as far as the last one took). */
  renderGapMs: 50,
  renderMaxGapMs: 1_000,
};

export function startAgentServer(options: AgentServerOptions): Promise<http.Server | undefined> {
  const exporter = options.metrics;
  const own = exporter ? prometheusText(exporter) : undefined;
  const cluster = options.cluster;
  const render = own && cluster ? () => cluster.metrics(own) : own;
  const metrics = render ? sharedRender(render, { minGapMs: LIMITS.renderGapMs, maxGapMs: LIMITS.renderMaxGapMs }) : undefined;
  const answer = (request: http.IncomingMessage, response: http.ServerResponse): Promise<void> =>
    handle(options, metrics, request, response).catch((error: unknown) => {
      reportOnce('agent endpoint', error);
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  const server = http.createServer({
    maxHeaderSize: LIMITS.maxHeaderBytes,
    headersTimeout: LIMITS.headersTimeoutMs,
    requestTimeout: LIMITS.requestTimeoutMs,
    connectionsCheckingInterval: LIMITS.checkEveryMs,
    keepAliveTimeout: LIMITS.keepAliveTimeoutMs,
  });
  server.on('request', oneAtATime(answer));
  agentServers.add(server);
  server.maxConnections = options.maxConnections;
  // A new connection that sends nothing is dropped like one whose headers are late (Node's
  // header deadline only starts with the first byte); while a request is answered there is no
  // idle limit (a /health probe may take its configured time), then see oneAtATime.
  server.timeout = LIMITS.headersTimeoutMs;
  server.on('connection', (socket: Socket) => {
    socket.unref();
    stopParsingOnceDestroyed(socket);
  });
  return new Promise((resolve) => {
    let yielded = false;
    let bound = false;
    server.on('error', (error: NodeJS.ErrnoException) => {
      // Once listening, an error is a failed accept (the process is out of descriptors): one line, never a crash.
      if (bound) return reportOnce('agent endpoint accept', error);
      if (yielded) return;
      stopWatching();
      const reason = error.code === 'EADDRINUSE' ? 'the port is already in use' : describeError(error);
      log.warn(
        `metrics and health endpoints are off: cannot listen on ${options.host}:${options.port} (${reason}); set OTEL_EXPORTER_PROMETHEUS_PORT to a free port. The app runs on.`,
      );
      resolve(undefined);
    });
    const stopWatching = yieldPortToApp(server, options.host, options.port, (port) => {
      yielded = true;
      if (server.listening) {
        server.close();
        server.closeAllConnections();
      }
      log.warn(
        `metrics and health endpoints are off: the app listens on port ${port}, the agent's port, and the app comes first; set OTEL_EXPORTER_PROMETHEUS_PORT to another port to have them.`,
      );
      resolve(undefined);
    });
    server.listen(options.port, options.host, () => {
      bound = true;
      server.unref();
      resolve(server);
    });
  });
}

/**
 * Node's parser turns a whole read (up to 64 KiB, some 1,500 tiny pipelined requests) into
 * request and response objects in one go, even after the socket is destroyed on the second: tens
 * of megabytes for ten such connections. Its per-connection callback (installed by Node's own
 * 'connection' listener, which runs before this one) may answer 2, "the rest is not HTTP", which
 * stops the parse at once; on a destroyed socket there is nothing left worth parsing. Without
 * that internal hook (another Node), the agent only loses this saving.
 */
function stopParsingOnceDestroyed(socket: Socket): void {
  const parser = (socket as Socket & { parser?: { onIncoming?: unknown } }).parser;
  const onIncoming = parser?.onIncoming;
  if (!parser || typeof onIncoming !== 'function') return;
  parser.onIncoming = function (this: unknown, ...args: unknown[]): unknown {
    if (socket.destroyed) return 2;
    return (onIncoming as (...a: unknown[]) => unknown).apply(this, args);
  };
}

type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => Promise<void>;

/**
 * Node parses every pipelined request in a chunk at once and hands each a response; answering
 * them all would render and buffer one body per request. Here a connection gets one answer at a
 * time: the next request starts once the previous answer has been handed to the kernel (its
 * 'finish' waits for that) and the socket has drained; a connection with more than
 * `maxPipelined` requests waiting is destroyed.
 */
function oneAtATime(answer: Handler): (request: http.IncomingMessage, response: http.ServerResponse) => void {
  const queues = new WeakMap<Socket, Array<() => void>>();

  const next = (socket: Socket): void => {
    const queue = queues.get(socket);
    if (!queue) return;
    const start = queue.shift();
    if (!start) {
      queues.delete(socket);
      return;
    }
    if (socket.destroyed) return void queues.delete(socket);
    if (socket.writableNeedDrain) socket.once('drain', start);
    else start();
  };

  return (request, response) => {
    const socket = request.socket;
    if (socket.destroyed) return;
    const run = (): void => {
      if (socket.destroyed) return;
      response.once('close', () => next(socket));
      socket.setTimeout(0);
      void answer(request, response).finally(() => {
        // The answer is written; until it reaches the kernel, it must make progress.
        if (!response.writableFinished && !socket.destroyed) socket.setTimeout(LIMITS.unreadAnswerTimeoutMs);
      });
    };
    const queue = queues.get(socket);
    if (queue === undefined) {
      queues.set(socket, []);
      run();
    } else if (queue.length < LIMITS.maxPipelined) {
      queue.push(run);
    } else {
      queues.delete(socket);
      socket.destroy();
    }
  };
}

async function handle(
  options: AgentServerOptions,
  metrics: (() => Promise<string>) | undefined,
  request: http.IncomingMessage,
  response: http.ServerResponse,
): Promise<void> {
  const path = (request.url ?? '/').split('?')[0];
  // The body is never read: the connection ends with this answer rather than read past it.
  if (hasBody(request)) response.shouldKeepAlive = false;
  if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, { statusCode: 405, body: { error: 'method not allowed' } });
  switch (path) {
    case '/live':
      return send(response, { statusCode: 200, body: { status: 'alive' } });
    case '/ready':
      return send(response, await (options.cluster ? options.cluster.ready(options.health) : options.health.ready()));
    case '/metrics':
      if (!(await authorized(options.accepted, request))) return unauthorized(response);
      if (!metrics)
        return send(response, { statusCode: 404, body: { error: 'metrics are not served here: OTEL_METRICS_EXPORTER does not include prometheus' } });
      return sendMetrics(response, await metrics());
    case '/health':
      if (!(await authorized(options.accepted, request))) return unauthorized(response);
      return send(response, await (options.cluster ? options.cluster.health(options.health) : options.health.health()));
    default:
      return send(response, { statusCode: 404, body: { error: 'not found', endpoints: ['/metrics', '/health', '/ready', '/live'] } });
  }
}

function hasBody(request: http.IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** As the exporter's own handler answers: status, content type, then the text (Node adds its length). */
function sendMetrics(response: http.ServerResponse, text: string): void {
  response.statusCode = 200;
  response.setHeader('content-type', METRICS_CONTENT_TYPE);
  response.end(text);
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
