/**
 * `http`: incoming requests on node:http and node:https (RED metrics, SERVER spans, from the
 * request records) and outgoing `http.request` (CLIENT spans by the upstream instrumentation,
 * which also injects traceparent).
 */
import { traceHttpServer } from '../instrumentations/http/server-spans';
import { meterHttpServer } from '../instrumentations/http/server';
import { SENSITIVE_QUERY_PARAMS } from '../http/request-facts';
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
    return new HttpInstrumentation({ disableIncomingRequestInstrumentation: true, redactedQueryParams: SENSITIVE_QUERY_PARAMS });
  },
  start({ config, metrics, tracer, requests }) {
    meterHttpServer(requests, new HttpServerMetrics(metrics, config.httpRouteLimit, config.semconvMetrics, config.httpSeriesLimit));
    if (tracer) traceHttpServer(requests, tracer);
  },
};
