/**
 * `undici` (alias `fetch`): CLIENT spans for the global fetch, by the upstream instrumentation;
 * with traces off, the trace context of the request being served is forwarded on fetch calls.
 */
import { redactUrl } from '../http/request-facts';
import { forwardOnFetch } from '../instrumentations/http/forward-context';
import type { Integration } from './types';

export const undiciIntegration: Integration = {
  name: 'undici',
  aliases: ['fetch'],
  switchable: true,
  provides: ['spans'],
  upstreamSpans() {
    const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici') as typeof import('@opentelemetry/instrumentation-undici');
    // Upstream puts the URL on the span as given (`?api_key=...`). Its startSpanHook's attributes
    // replace its own before the span starts, so the raw URL never reaches the sampler or a processor.
    return new UndiciInstrumentation({ startSpanHook: (request) => redactedUrlAttributes(request.origin, request.path) });
  },
  start({ config, tracer, requests }) {
    // With traces on, the upstream instrumentation makes the spans and injects their context.
    if (!tracer && config.propagators.length > 0) forwardOnFetch(requests);
  },
};

/** `url.full` and `url.query` as upstream builds them (`new URL(path, origin)`), redacted. */
export function redactedUrlAttributes(origin: string, path: string): Record<string, string> {
  let url: URL;
  try {
    url = new URL(path, origin);
  } catch {
    return {}; // upstream makes no span for a URL it cannot parse either
  }
  return { 'url.full': redactUrl(url.toString()), 'url.query': redactUrl(url.search) };
}
