/**
 * Fastify 5 handler spans, from Fastify's own `tracing:fastify.request.handler` channel: one
 * INTERNAL span per route handler, a child of the request's SERVER span, from the handler's start
 * to its end (or to the settling of the promise it returns), with the error it threw.
 *
 * Why not upstream's instrumentation-fastify: it is deprecated, patches Fastify's hooks, and pulls
 * a second major of @opentelemetry/core whose peer range excludes the API the agent uses (a
 * user's `npm ls` failed on it). Fastify 4 has no such channel: its requests keep their SERVER
 * spans with the route template, without a handler span.
 */
import * as dc from 'node:diagnostics_channel';
import { context, SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api';
import { guard } from '../../lifecycle/guard';

const SPAN = Symbol('otel-agent.fastifySpan');

interface HandlerStore {
  route?: { url?: unknown; method?: unknown };
  async?: boolean;
  error?: unknown;
  [SPAN]?: Span;
}

export function traceFastifyHandlers(tracer: Tracer): void {
  const channel = dc.tracingChannel<unknown, HandlerStore>('fastify.request.handler');
  channel.subscribe({
    start: guard('fastify handler span', (store: HandlerStore) => {
      const route = typeof store.route?.url === 'string' ? store.route.url : undefined;
      const span = tracer.startSpan(`request handler - ${route ?? 'fastify'}`, {}, context.active());
      if (!span.isRecording()) return;
      span.setAttributes({ 'fastify.type': 'request_handler', ...(route ? { 'http.route': route } : {}) });
      store[SPAN] = span;
    }),
    // A handler that returned a promise ends at asyncEnd; a synchronous one at end.
    end: guard('fastify handler span', (store: HandlerStore) => {
      if (!store.async) endSpan(store);
    }),
    asyncStart: () => undefined,
    asyncEnd: guard('fastify handler span', (store: HandlerStore) => endSpan(store)),
    error: guard('fastify handler span', (store: HandlerStore) => {
      const span = store[SPAN];
      if (!span) return;
      const error = store.error;
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    }),
  });
}

function endSpan(store: HandlerStore): void {
  const span = store[SPAN];
  if (!span) return;
  store[SPAN] = undefined;
  span.end();
}
