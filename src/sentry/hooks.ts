/**
 * Where errors are seen, without changing what the app or Node does with them:
 * - HTTP answers with a 5xx status, from Node's `http.server.response.finish` channel (plain
 *   http, Express, Fastify, anything on node:http), after the response has gone;
 * - the error behind them, from the frameworks' own tracing channels: Express 5's router
 *   (`express.router.request`, router 2.3+) and Fastify 5 (`fastify.request.handler`), noted
 *   on the request together with the span that was active when it was thrown;
 * - uncaught exceptions, and unhandled rejections in Node's default mode (`throw`, and
 *   `strict`), where Node raises them as uncaught exceptions: reported, flushed for a bounded
 *   time, then thrown again so the process ends as Node would have ended it (stack trace on
 *   stderr, exit code 1). If the app has its own `uncaughtException` listener, it decides.
 */
import * as dc from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { isSpanContextValid, trace, TraceFlags } from '@opentelemetry/api';
import type { InstrumentationName } from '../config/instrumentation-names';
import { schemeOf } from '../http/request-facts';
import type { RecordedError, ServerRequests } from '../http/requests';
import { markShuttingDown } from '../lifecycle/app-state';
import { guard } from '../lifecycle/guard';
import { foldPath, methodLabel, routeLabel } from '../http/route-label';
import type { Breadcrumbs } from './breadcrumbs';
import type { Capture, HttpFacts, SentryReporter } from './reporter';
import type { ErrorSpanIndex } from './spans';

/** Request headers an event may carry; everything else (Authorization, Cookie, ...) never does. */
const SENT_HEADERS = ['accept', 'content-type', 'content-length', 'user-agent', 'host'];

/** The active span's ids, if a span is active. */
export function activeTrace(): Capture['trace'] {
  const ctx = trace.getActiveSpan()?.spanContext();
  if (!ctx || !isSpanContextValid(ctx)) return undefined;
  return { traceId: ctx.traceId, spanId: ctx.spanId, sampled: (ctx.traceFlags & TraceFlags.SAMPLED) !== 0 };
}

export function watchHttpErrors(reporter: SentryReporter, names: Set<InstrumentationName>, requests: ServerRequests, breadcrumbs?: Breadcrumbs): void {
  const note = (request: IncomingMessage | undefined, error: unknown, framework: RecordedError['framework']) => {
    const record = requests.recordOf(request);
    if (!record || record.error) return; // the first error is where it started
    record.error = { error, trace: activeTrace(), framework };
  };
  if (names.has('express')) {
    dc.subscribe(
      'tracing:express.router.request:error',
      guard('sentry express errors', (message: unknown) => {
        const { req, error } = message as { req?: IncomingMessage; error?: unknown };
        note(req, error, 'express');
      }),
    );
  }
  if (names.has('fastify')) {
    dc.subscribe(
      'tracing:fastify.request.handler:error',
      guard('sentry fastify errors', (message: unknown) => {
        const { request, error } = message as { request?: { raw?: IncomingMessage }; error?: unknown };
        note(request?.raw, error, 'fastify');
      }),
    );
  }

  requests.consume({
    finish(record) {
      const { request, response, error: noted } = record;
      const statusCode = response.statusCode;
      if (statusCode < 500) return; // an error the app answered with a 4xx is the client's
      const http = httpFacts(request, statusCode, requests.routeTemplate(request));
      const crumbs = breadcrumbs?.ofRecord(record);
      if (noted) {
        reporter.capture({
          error: noted.error,
          level: 'error',
          mechanism: `auto.http.${noted.framework}`,
          trace: noted.trace ?? activeTrace(),
          http,
          breadcrumbs: crumbs,
        });
      } else {
        // The span active when the response finished is the request's (its context follows the write).
        reporter.capture({
          message: `HTTP ${statusCode} on ${http.method} ${http.route}`,
          level: 'error',
          mechanism: 'auto.http.node',
          trace: activeTrace(),
          http,
          breadcrumbs: crumbs,
        });
      }
    },
  });
}

export function httpFacts(request: IncomingMessage & { originalUrl?: string }, statusCode: number | undefined, template: string | undefined): HttpFacts {
  const raw = request.originalUrl ?? request.url ?? '/';
  const headers: Record<string, string> = {};
  for (const name of SENT_HEADERS) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const host = request.headers.host;
  const scheme = schemeOf(request);
  // The path with ids, e-mail addresses and tokens folded, and no query string.
  const path = foldPath(raw);
  return {
    method: methodLabel(request.method),
    route: template ?? routeLabel(undefined, raw, statusCode ?? 500),
    statusCode,
    url: host ? `${scheme}://${host}${path}` : path,
    headers,
  };
}

export type RejectionMode = 'throw' | 'strict' | 'warn' | 'none' | 'warn-with-error-code';

/** Node's --unhandled-rejections mode, from the command line or NODE_OPTIONS (default: throw). */
export function unhandledRejectionsMode(execArgv: string[], nodeOptions: string | undefined): RejectionMode {
  let mode: RejectionMode = 'throw';
  const args = [...(nodeOptions ?? '').split(/\s+/), ...execArgv];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = arg.startsWith('--unhandled-rejections=')
      ? arg.slice('--unhandled-rejections='.length)
      : arg === '--unhandled-rejections'
        ? args[i + 1]
        : undefined;
    if (value === 'throw' || value === 'strict' || value === 'warn' || value === 'none' || value === 'warn-with-error-code') mode = value;
  }
  return mode;
}

export function watchProcessErrors(
  reporter: SentryReporter,
  errors: ErrorSpanIndex | undefined,
  flushTimeoutMs: number,
  breadcrumbs?: Breadcrumbs,
): void {
  // With --abort-on-uncaught-exception, any listener would stop Node from aborting (and dumping core).
  const nodeOptions = (process.env.NODE_OPTIONS ?? '').split(/\s+/);
  if ([...process.execArgv, ...nodeOptions].includes('--abort-on-uncaught-exception')) return;
  let exiting = false;

  const onUncaught = (error: unknown, origin: string) => {
    const fromPromise = origin === 'unhandledRejection';
    reporter.capture({
      error,
      level: 'fatal',
      mechanism: fromPromise ? 'auto.node.onunhandledrejection' : 'auto.node.onuncaughtexception',
      ...requestOf(error, errors),
      breadcrumbs: breadcrumbs?.ofCurrent(),
    });
    // Another listener means the app handles uncaught exceptions itself: it decides what follows.
    if (process.listeners('uncaughtException').some((listener) => listener !== onUncaught)) return;
    if (exiting) return; // already on the way out: this one is reported, the first is rethrown
    exiting = true;
    markShuttingDown();
    void reporter.flush(flushTimeoutMs).finally(() => {
      process.removeListener('uncaughtException', onUncaught);
      // Thrown again outside any promise, so Node prints it and exits with code 1, as it would have.
      setImmediate(() => {
        throw error;
      });
    });
  };
  process.on('uncaughtException', onUncaught);

  // In 'none' mode Node ignores rejections silently; a listener changes nothing there. In the
  // warn modes a listener would silence Node's warning, so they are not reported (see docs).
  if (unhandledRejectionsMode(process.execArgv, process.env.NODE_OPTIONS) === 'none') {
    process.on('unhandledRejection', (reason: unknown) => {
      reporter.capture({
        error: reason,
        level: 'error',
        mechanism: 'auto.node.onunhandledrejection',
        ...requestOf(reason, errors),
        breadcrumbs: breadcrumbs?.ofCurrent(),
      });
    });
  }
}

/** The request an error escaped from, when its server span recorded exactly this error. */
function requestOf(error: unknown, errors: ErrorSpanIndex | undefined): Pick<Capture, 'trace' | 'http'> {
  const request = errors?.find(error);
  if (!request) return { trace: activeTrace() };
  return {
    trace: { traceId: request.traceId, spanId: request.spanId, sampled: request.sampled },
    http: request.method
      ? {
          method: methodLabel(request.method),
          route: request.route ?? foldPath(request.path ?? '/'),
          statusCode: request.statusCode,
          url: undefined,
          headers: {},
        }
      : undefined,
  };
}
