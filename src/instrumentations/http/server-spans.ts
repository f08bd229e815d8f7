/**
 * SERVER spans for incoming HTTP requests, from the same diagnostics channels the metrics use.
 *
 * Why not upstream's instrumentation-http: it builds a span with about twenty attributes (old and
 * new semantic conventions, headers, peer details) for every request before the sampler has
 * spoken, and wraps `Server.prototype.emit` for every server, the agent's own included; in the
 * benchmark that was the largest single cost of tracing. Here the sampler decides first, a span
 * that is not recorded gets no attributes at all, and a recorded one gets the stable HTTP
 * semantic-convention attributes a trace view needs.
 *
 * Context: `http.server.request.start` is published just before the server emits 'request', so
 * the subscriber wraps that one server's `emit` the first time it sees it; the app's handler then
 * runs inside the request's context, and everything it starts (queries, Redis, outgoing calls)
 * becomes a child of the server span. The request's and response's own events ('data', 'end',
 * 'finish', ...) come later from the socket, in the socket's context, and a plain http app reads
 * its body and goes on in them, so those events are emitted in the request's context too.
 */
import * as dc from 'node:diagnostics_channel';
import { IncomingMessage, ServerResponse, type IncomingHttpHeaders } from 'node:http';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';
import { guard, reportOnce } from '../../lifecycle/guard';
import { agentServers } from '../../lifecycle/internal';
import { methodLabel } from '../../metrics/route';
import type { RouteTemplateLookup } from './server';
import { hostName, pathOf, schemeOf, serverSpanName } from './utils';

const SPAN = Symbol('otel-agent.serverSpan');
const CONTEXT = Symbol('otel-agent.serverContext');
const EMIT_WRAPPED = Symbol('otel-agent.emitWrapped');

type TracedRequest = IncomingMessage & { [SPAN]?: Span; [CONTEXT]?: Context; originalUrl?: string };
type TracedResponse = ServerResponse & { [SPAN]?: Span; [CONTEXT]?: Context };

interface ServerChannelMessage {
  request: TracedRequest;
  response: TracedResponse;
  server: { emit: (event: string | symbol, ...args: unknown[]) => boolean; [EMIT_WRAPPED]?: true };
}

const headerGetter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => headers[key],
};

export function traceHttpServer(tracer: Tracer, templateOf: RouteTemplateLookup): void {
  emitEventsInRequestContext(IncomingMessage.prototype);
  emitEventsInRequestContext(ServerResponse.prototype);
  dc.subscribe(
    'http.server.request.start',
    guard('http server span start', (message: unknown) => {
      const { request, response, server } = message as ServerChannelMessage;
      if (agentServers.has(server)) return;
      if (server[EMIT_WRAPPED] !== true) wrapEmit(server);
      // A traceparent from the caller continues its trace; anything ambient does not leak in.
      const parent = propagation.extract(ROOT_CONTEXT, request.headers, headerGetter);
      const method = methodLabel(request.method);
      const span = tracer.startSpan(method, { kind: SpanKind.SERVER }, parent);
      const ctx = trace.setSpan(parent, span);
      request[CONTEXT] = ctx;
      response[CONTEXT] = ctx;
      if (!span.isRecording()) return; // not sampled: it still carries the trace id to children
      const headers = request.headers;
      span.setAttributes({
        'http.request.method': method,
        'url.scheme': schemeOf(request),
        'url.path': pathOf(request.url),
        'network.protocol.version': request.httpVersion,
      });
      const host = hostName(headers.host);
      if (host) span.setAttribute('server.address', host);
      const client = request.socket?.remoteAddress;
      if (client) span.setAttribute('client.address', client);
      request[SPAN] = span;
      response[SPAN] = span;
      // A client that hangs up before the answer is complete: the response closes without finishing.
      response.once('close', endAborted);
    }),
  );

  dc.subscribe(
    'http.server.response.finish',
    guard('http server span end', (message: unknown) => {
      const { request, response } = message as ServerChannelMessage;
      const span = request[SPAN];
      if (span === undefined) return;
      request[SPAN] = undefined;
      response[SPAN] = undefined;
      const statusCode = response.statusCode;
      span.setAttribute('http.response.status_code', statusCode);
      const route = templateOf(request);
      if (route) {
        span.setAttribute('http.route', route);
        span.updateName(serverSpanName(methodLabel(request.method), route));
      }
      // Per the HTTP conventions a 4xx is the client's error, not the server span's.
      if (statusCode >= 500) {
        span.setAttribute('error.type', String(statusCode));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    }),
  );
}

function endAborted(this: TracedResponse): void {
  const span = this[SPAN];
  if (span === undefined) return;
  this[SPAN] = undefined;
  span.setAttribute('error.type', 'aborted');
  span.setStatus({ code: SpanStatusCode.ERROR, message: 'the client closed the connection before the response was complete' });
  span.end();
}

/**
 * Runs this server's 'request' handlers in the request's context. An exception the handler throws
 * synchronously is recorded on the span, which then ends (no response will follow), and rethrown
 * unchanged.
 */
function wrapEmit(server: ServerChannelMessage['server']): void {
  const original = server.emit;
  if (typeof original !== 'function') return;
  server[EMIT_WRAPPED] = true;
  server.emit = function emit(this: unknown, event: string | symbol, request?: unknown, response?: unknown) {
    const ctx = event === 'request' ? (request as TracedRequest | undefined)?.[CONTEXT] : undefined;
    // eslint-disable-next-line prefer-rest-params
    if (ctx === undefined) return original.apply(this, arguments as unknown as [string, ...unknown[]]);
    try {
      return context.with(ctx, original, this, event, request, response);
    } catch (error) {
      endWithException(request as TracedRequest, response as TracedResponse, error);
      throw error;
    }
  };
}

type Emitter = { emit: (this: Emitter, ...args: unknown[]) => boolean; [CONTEXT]?: Context };

/** One patch per prototype: objects without a request context (client requests, other servers' traffic) pass straight through. */
function emitEventsInRequestContext(proto: object): void {
  const target = proto as Emitter;
  const original = target.emit;
  if (typeof original !== 'function') return;
  target.emit = function emit(this: Emitter) {
    const ctx = this[CONTEXT];
    // eslint-disable-next-line prefer-rest-params
    if (ctx === undefined || context.active() === ctx) return original.apply(this, arguments as unknown as unknown[]);
    // eslint-disable-next-line prefer-rest-params
    return context.with(ctx, applyEmit, undefined, original, this, arguments);
  };
}

function applyEmit(original: Emitter['emit'], target: Emitter, args: IArguments): boolean {
  return original.apply(target, args as unknown as unknown[]);
}

function endWithException(request: TracedRequest, response: TracedResponse, error: unknown): void {
  try {
    const span = request[SPAN];
    if (span === undefined) return;
    request[SPAN] = undefined;
    if (response) response[SPAN] = undefined;
    span.recordException(error instanceof Error ? error : String(error));
    span.setAttribute('error.type', error instanceof Error ? error.constructor.name : 'exception');
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    span.end();
  } catch (internal) {
    reportOnce('http server span exception', internal);
  }
}
