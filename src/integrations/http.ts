/**
 * `http`: incoming requests on node:http and node:https (RED metrics, SERVER spans, from the
 * request records) and outgoing `http.request` (CLIENT spans by the upstream instrumentation,
 * which also injects traceparent; with traces off, the incoming trace context is forwarded).
 */
import { buildPropagator } from '../http/propagators';
import { forwardIncomingContext } from '../instrumentations/http/forward-context';
import { traceHttpServer } from '../instrumentations/http/server-spans';
import { meterHttpServer } from '../instrumentations/http/server';
import type { Span } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { redactUrl, SENSITIVE_QUERY_PARAMS } from '../http/request-facts';
import { HttpServerMetrics } from '../metrics/http-metrics';
import type { Integration } from './types';

export const httpIntegration: Integration = {
  name: 'http',
  aliases: ['https'],
  switchable: true,
  provides: ['metrics', 'spans'],
  tracedPatches: ['http', 'https'],
  upstreamSpans() {
    // Outgoing requests only: the server side is the agent's own (instrumentations/http).
    const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
    return new HttpInstrumentation({
      disableIncomingRequestInstrumentation: true,
      // Upstream replaces user info with REDACTED:REDACTED and these parameters' values, but
      // matches the names case-sensitively (`?Token=` passes): the hook runs redactUrl over the
      // url.full it built, right after the span starts and before anything can export it.
      redactedQueryParams: SENSITIVE_QUERY_PARAMS,
      requestHook: (span) => redactSpanUrl(span),
    });
  },
  start({ config, metrics, tracer, requests }) {
    meterHttpServer(requests, new HttpServerMetrics(metrics, config.httpRouteLimit, config.semconvMetrics, config.httpSeriesLimit));
    if (tracer) traceHttpServer(requests, tracer);
    // Traces off: no spans, but the caller's trace context still reaches the calls made for it.
    else if (config.propagators.length > 0) forwardIncomingContext(requests, buildPropagator(config.propagators));
  },
};

/** Re-sets a recording span's url.full through redactUrl (a non-recording span has nothing to read). */
function redactSpanUrl(span: Span): void {
  const full = (span as Partial<ReadableSpan>).attributes?.['url.full'];
  if (typeof full !== 'string') return;
  const redacted = redactUrl(full);
  if (redacted !== full) span.setAttribute('url.full', redacted);
}
