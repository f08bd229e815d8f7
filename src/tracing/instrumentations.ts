/**
 * The upstream OpenTelemetry instrumentations the agent still uses for spans: outgoing HTTP
 * (http.request and fetch, which inject traceparent), and the Express and Fastify middleware
 * spans. Incoming HTTP, pg and ioredis spans are the agent's own (instrumentations/http,
 * pg, ioredis), made by the hooks that already time them for the metrics, with the sampler asked
 * first. Loaded only when traces are exported, and only those enabled: each `require` here is
 * deferred until it is needed.
 */
import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import type { InstrumentationName } from '../config/instrumentation-names';

interface Instrumentation {
  setTracerProvider(provider: TracerProvider): void;
  setMeterProvider(provider: MeterProvider): void;
  enable(): void;
  disable(): void;
}

/**
 * Query parameters whose values are replaced by REDACTED in span URLs: upstream's cloud-signature
 * list plus the names tokens and passwords usually travel under.
 */
export const SENSITIVE_QUERY_PARAMS = [
  'sig', 'Signature', 'AWSAccessKeyId', 'X-Goog-Signature', 'X-Amz-Signature', 'X-Amz-Credential', 'X-Amz-Security-Token',
  'token', 'access_token', 'refresh_token', 'id_token', 'auth', 'authorization', 'jwt', 'session', 'sessionid',
  'api_key', 'apikey', 'api-key', 'key', 'secret', 'client_secret', 'password', 'passwd', 'pwd', 'code', 'signature',
];

/** Upstream span instrumentations; the AI meters make their own generation spans. */
const LOADERS: Partial<Record<InstrumentationName, () => Instrumentation>> = {
  // Outgoing requests only: the server side is instrumentations/http/server-spans.ts.
  http: () => {
    const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
    return new HttpInstrumentation({ disableIncomingRequestInstrumentation: true, redactedQueryParams: SENSITIVE_QUERY_PARAMS });
  },
  undici: () => {
    const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici') as typeof import('@opentelemetry/instrumentation-undici');
    return new UndiciInstrumentation();
  },
  express: () => {
    const { ExpressInstrumentation } = require('@opentelemetry/instrumentation-express') as typeof import('@opentelemetry/instrumentation-express');
    return new ExpressInstrumentation();
  },
  fastify: () => {
    const { FastifyInstrumentation } = require('@opentelemetry/instrumentation-fastify') as typeof import('@opentelemetry/instrumentation-fastify');
    return new FastifyInstrumentation();
  },
};

/** Package names each instrumentation hooks, for the ESM hook's include list. */
export const TRACED_PACKAGES: Record<InstrumentationName, string[]> = {
  http: ['http', 'https'],
  undici: [],
  pg: [], // the agent's own patch, hooked whenever pg is enabled
  ioredis: [],
  express: ['express', 'router'],
  fastify: ['fastify'],
  openai: [],
  anthropic: [],
};

export function loadTraceInstrumentations(
  names: Iterable<InstrumentationName>,
  tracerProvider: TracerProvider,
  meterProvider: MeterProvider,
): Instrumentation[] {
  const loaded: Instrumentation[] = [];
  for (const name of names) {
    const load = LOADERS[name];
    if (!load) continue;
    const instrumentation = load();
    instrumentation.setTracerProvider(tracerProvider);
    // A no-op meter provider unless the semantic-convention twins were asked for.
    instrumentation.setMeterProvider(meterProvider);
    loaded.push(instrumentation);
  }
  return loaded;
}
