/**
 * The propagator OTEL_PROPAGATORS names: W3C trace context and baggage by default, B3 single or
 * multi header on request, nothing for `none`. The B3 code is loaded only when asked for. Used by
 * tracing, and with traces off by the context forwarding (instrumentations/http/forward-context.ts).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { TextMapGetter, TextMapPropagator } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import type { PropagatorName } from '../config/types';

/** Reads trace context from an incoming request's headers (Node lower-cases their names). */
export const incomingHeaderGetter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => headers[key],
};

export function buildPropagator(names: readonly PropagatorName[]): TextMapPropagator {
  return new CompositePropagator({ propagators: names.map(create) });
}

function create(name: PropagatorName): TextMapPropagator {
  switch (name) {
    case 'tracecontext':
      return new W3CTraceContextPropagator();
    case 'baggage':
      return new W3CBaggagePropagator();
    case 'b3':
    case 'b3multi': {
      const { B3Propagator, B3InjectEncoding } = require('@opentelemetry/propagator-b3') as typeof import('@opentelemetry/propagator-b3');
      return new B3Propagator({ injectEncoding: name === 'b3' ? B3InjectEncoding.SINGLE_HEADER : B3InjectEncoding.MULTI_HEADER });
    }
  }
}
