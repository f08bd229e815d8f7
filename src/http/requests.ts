/**
 * One record per incoming HTTP request, made by the only subscriber the agent has on Node's
 * `http.server.request.start` and `http.server.response.finish` channels. Metrics, spans, the AI
 * meters' route attribution and Sentry are consumers of the record; none subscribes to the
 * channels itself, so one request costs one record whatever is switched on.
 *
 * Diagnostics channels need no patching, so this works the same for ESM and CommonJS apps, for
 * http and https, and for any framework on node:http. The agent's own server is never recorded.
 *
 * Context. `http.server.request.start` is published just before the server emits 'request', in
 * the same turn. A consumer that needs the app's handler, and what it starts, to run in the
 * request's context (spans: an OpenTelemetry context; the AI meters: the record itself) asks for
 * it with `runInRequestContext`; then:
 * - the server's `emit` is wrapped once per server, so the 'request' handlers run in it;
 * - the request's and response's own events ('data', 'end', 'finish', ...), which come later from
 *   the socket in the socket's context and in which plain http apps and body parsers go on with
 *   the handler, are emitted in it too: one patch of `IncomingMessage.prototype.emit` and one of
 *   `ServerResponse.prototype.emit`, which pass straight through for objects without a record.
 * With only metrics on, nothing is patched.
 *
 * One async store per request, not two. Entering an AsyncLocalStorage is not free (a new context
 * frame, and every await and callback of the request carries it), so when the request has an
 * OpenTelemetry context (tracing on) the record rides in that context under a key of its own, and
 * `currentRecord` reads it from there; the record's own AsyncLocalStorage is entered only for
 * requests without one (traces off, with the AI meters, Sentry breadcrumbs or context forwarding on).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import * as dc from 'node:diagnostics_channel';
import { IncomingMessage, ServerResponse } from 'node:http';
import { context as otelContext, createContextKey, type Context, type Span } from '@opentelemetry/api';
import { guard, reportOnce } from '../lifecycle/guard';
import { agentServers } from '../lifecycle/internal';
import type { Trail } from '../sentry/breadcrumbs/trail';
import { createRouteTemplateLookup, type RouteTemplateSource } from './route-templates';

const RECORD = Symbol('otel-agent.request');
/** Where the record rides when the request has an OpenTelemetry context (tracing on). */
const RECORD_KEY = createContextKey('otel-agent request record');
const EMIT_WRAPPED = Symbol('otel-agent.emitWrapped');

export type AppRequest = IncomingMessage & { originalUrl?: string; [RECORD]?: RequestRecord };
type AppResponse = ServerResponse & { [RECORD]?: RequestRecord };

interface AppServer {
  emit: (event: string | symbol, ...args: unknown[]) => boolean;
  [EMIT_WRAPPED]?: true;
}

/** An error a framework reported for this request, with the trace that was active when it was thrown. */
export interface RecordedError {
  error: unknown;
  trace: { traceId: string; spanId: string; sampled: boolean } | undefined;
  framework: 'express' | 'fastify';
}

export interface RequestRecord {
  readonly request: AppRequest;
  readonly response: AppResponse;
  /** performance.now() when the request started. */
  readonly startedAt: number;
  /** The OpenTelemetry context the request's code runs in (set by the span consumer). */
  context: Context | undefined;
  /** The request's SERVER span while it is open (set by the span consumer, cleared when it ends). */
  span: Span | undefined;
  /** The first error a framework reported for this request. */
  error: RecordedError | undefined;
  /** The request's breadcrumbs for Sentry, made on its first one (only with SENTRY_DSN). */
  breadcrumbs?: Trail;
  /**
   * With traces off: the trace context headers the request came with, as the configured
   * propagators write them, to pass on to the calls made while serving it (forward-context.ts).
   */
  forwardHeaders: Record<string, string> | undefined;
  /** Whether `currentRecord` finds this record (every request's, or only those a consumer asked for). */
  tracked: boolean;
}

export interface RequestConsumer {
  start?: (record: RequestRecord) => void;
  finish?: (record: RequestRecord) => void;
  /**
   * The response closed: after `finish`, or without it when the client hung up first. Seen from the
   * response's own 'close' event, with no listener added per request (consumers that need it must
   * also have called `runInRequestContext`, which patches the response's emit).
   */
  closed?: (record: RequestRecord) => void;
  /**
   * A handler threw synchronously inside the server's 'request' emit (no response will follow);
   * the exception is rethrown to Node unchanged after every consumer saw it.
   */
  threw?: (record: RequestRecord, error: unknown) => void;
}

export class ServerRequests {
  private readonly consumers: RequestConsumer[] = [];
  private readonly templateSources: RouteTemplateSource[] = [];
  private current: AsyncLocalStorage<RequestRecord> | undefined;
  private trackEvery = false;
  private contextual = false;
  private subscribed = false;
  /** The framework's route template for a request, if a framework matched one. */
  readonly routeTemplate = createRouteTemplateLookup(this.templateSources);

  /** Adds a consumer; the first one subscribes to the channels. Consumers see records in the order they were added. */
  consume(consumer: RequestConsumer): void {
    this.consumers.push(consumer);
    this.subscribe();
  }

  private subscribe(): void {
    if (this.subscribed) return;
    this.subscribed = true;
    dc.subscribe(
      'http.server.request.start',
      guard('http server request start', (message: unknown) => this.started(message as ChannelMessage)),
    );
    dc.subscribe(
      'http.server.response.finish',
      guard('http server response finish', (message: unknown) => this.finished(message as ChannelMessage)),
    );
  }

  /** A framework integration that can name the route a request matched. */
  addRouteTemplateSource(source: RouteTemplateSource): void {
    this.templateSources.push(source);
  }

  /** The record of a request the agent is tracking (frameworks' own channels hand over the request). */
  recordOf(request: IncomingMessage | undefined): RequestRecord | undefined {
    return (request as AppRequest | undefined)?.[RECORD];
  }

  /**
   * The request being served where this is called, across `await`, timers and the request's own
   * events, if it is tracked (`trackCurrentRequest`, or `trackSomeRequests` and `track`). With
   * tracing on it is read from the OpenTelemetry context: code the app runs under a context of its
   * own making (`context.with(ROOT_CONTEXT, ...)`) is outside the request.
   */
  currentRecord(): RequestRecord | undefined {
    if (this.current === undefined) return undefined;
    return (otelContext.active().getValue(RECORD_KEY) as RequestRecord | undefined) ?? this.current.getStore();
  }

  /**
   * Makes `currentRecord` answer for every request. Without an OpenTelemetry context (traces off)
   * that costs one AsyncLocalStorage entry per request; a consumer that needs only some requests
   * found uses `trackSomeRequests` and `track` instead.
   */
  trackCurrentRequest(): void {
    this.trackEvery = true;
    this.trackSomeRequests();
  }

  /** Makes `currentRecord` answer for the requests passed to `track` by a consumer's `start`. */
  trackSomeRequests(): void {
    this.current ??= new AsyncLocalStorage<RequestRecord>();
    this.subscribe();
    this.runInRequestContext();
  }

  /** From a consumer's `start`: `currentRecord` finds this request while it is served. */
  track(record: RequestRecord): void {
    record.tracked = true;
  }

  /** Runs the request's handler and events in its record's context (see the file comment). */
  runInRequestContext(): void {
    if (this.contextual) return;
    this.contextual = true;
    patchEventEmit(IncomingMessage.prototype, this, false);
    patchEventEmit(ServerResponse.prototype, this, true);
  }

  private started({ request, response, server }: ChannelMessage): void {
    if (agentServers.has(server)) return;
    const record: RequestRecord = {
      request,
      response,
      startedAt: performance.now(),
      context: undefined,
      span: undefined,
      error: undefined,
      forwardHeaders: undefined,
      tracked: this.trackEvery,
    };
    request[RECORD] = record;
    response[RECORD] = record;
    if (this.contextual && server[EMIT_WRAPPED] !== true) this.wrapServerEmit(server);
    for (const consumer of this.consumers) if (consumer.start) runConsumer('start', consumer.start, record);
    const current = this.current;
    if (current === undefined) return;
    if (!record.tracked) {
      // An untracked request must not see a tracked one's record (two pipelined requests parsed in
      // one callback, say): cleared only when something is there, so it usually costs one lookup.
      if (current.getStore() !== undefined) current.enterWith(undefined as unknown as RequestRecord);
      return;
    }
    // With an OpenTelemetry context, the record rides in it (see the file comment).
    if (record.context !== undefined) record.context = record.context.setValue(RECORD_KEY, record);
    // Node restores the previous store when the socket's callback returns: a later request on a
    // keep-alive connection starts without it.
    else current.enterWith(record);
  }

  /** From the response's 'close' event (see patchEventEmit). */
  responseClosed(record: RequestRecord): void {
    for (const consumer of this.consumers) if (consumer.closed) runConsumer('closed', consumer.closed, record);
  }

  private finished({ request }: ChannelMessage): void {
    const record = request[RECORD];
    if (record === undefined) return;
    for (const consumer of this.consumers) if (consumer.finish) runConsumer('finish', consumer.finish, record);
  }

  /** Runs this server's 'request' handlers in the request's context; a synchronous throw is shown to consumers, then rethrown. */
  private wrapServerEmit(server: AppServer): void {
    const original = server.emit;
    if (typeof original !== 'function') return;
    server[EMIT_WRAPPED] = true;
    const consumers = this.consumers;
    const callIn = this.callIn.bind(this);
    server.emit = function emit(this: unknown, event: string | symbol, request?: unknown, response?: unknown) {
      const record = event === 'request' ? (request as AppRequest | undefined)?.[RECORD] : undefined;
      // eslint-disable-next-line prefer-rest-params
      if (record === undefined) return original.apply(this, arguments as unknown as [string, ...unknown[]]);
      try {
        return callIn(record, original as (this: unknown, ...args: unknown[]) => boolean, this, [event, request, response]);
      } catch (error) {
        for (const consumer of consumers) if (consumer.threw) runConsumer('threw', consumer.threw, record, error);
        throw error;
      }
    };
  }

  /**
   * Calls `fn` on `target` with `args` in the record's OpenTelemetry context (which carries the
   * record too), or else as the current record, entering nothing that is already active. No
   * closure is made: this runs for every event of every request while spans or the AI meters are on.
   */
  callIn<R>(record: RequestRecord, fn: (this: unknown, ...args: unknown[]) => R, target: unknown, args: ArrayLike<unknown>): R {
    const ctx = record.context;
    if (ctx !== undefined)
      return otelContext.active() === ctx ? fn.apply(target, args as unknown[]) : (otelContext.with(ctx, call, undefined, fn, target, args) as R);
    const current = this.current;
    if (record.tracked && current !== undefined && current.getStore() !== record) return current.run(record, call, fn, target, args);
    return fn.apply(target, args as unknown[]);
  }
}

function call<R>(fn: (this: unknown, ...args: unknown[]) => R, target: unknown, args: ArrayLike<unknown>): R {
  return fn.apply(target, args as unknown[]);
}

interface ChannelMessage {
  request: AppRequest;
  response: AppResponse;
  server: AppServer;
}

function runConsumer<A extends unknown[]>(where: string, fn: (...args: A) => void, ...args: A): void {
  try {
    fn(...args);
  } catch (error) {
    reportOnce(`http request consumer ${where}`, error);
  }
}

type Emitter = {
  emit: (this: Emitter, ...args: unknown[]) => boolean;
  listenerCount: (event: string | symbol) => number;
  [RECORD]?: RequestRecord;
};

/**
 * One patch per prototype: objects without a record (client requests, the agent's own traffic)
 * pass straight through, and so do events nobody listens to ('prefinish', 'finish', 'close' on
 * most responses): with no listener there is no code to run in the request's context, and
 * entering it would cost an AsyncLocalStorage frame per event per request.
 */
function patchEventEmit(proto: object, requests: ServerRequests, isResponse: boolean): void {
  const target = proto as Emitter;
  const original = target.emit;
  if (typeof original !== 'function') return;
  target.emit = function emit(this: Emitter, event?: unknown) {
    const record = this[RECORD];
    if (isResponse && event === 'close' && record !== undefined) requests.responseClosed(record);
    // eslint-disable-next-line prefer-rest-params
    if (record === undefined || this.listenerCount(event as string | symbol) === 0) return original.apply(this, arguments as unknown as unknown[]);
    // eslint-disable-next-line prefer-rest-params
    return requests.callIn(record, original as (this: unknown, ...args: unknown[]) => boolean, this, arguments);
  };
}
