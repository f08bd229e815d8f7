/**
 * The upstream OpenTelemetry instrumentations that make spans. Loaded only when traces are
 * exported, and only those enabled: each `require` here is deferred until it is needed, since
 * loading all of auto-instrumentations-node costs about half a second at start.
 */
import type { IncomingMessage } from 'node:http';
import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import type { InstrumentationName } from '../config/instrumentation-names';
import { agentServers } from '../lifecycle/internal';

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
  http: () => {
    const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
    return new HttpInstrumentation({
      redactedQueryParamsServer: SENSITIVE_QUERY_PARAMS,
      redactedQueryParams: SENSITIVE_QUERY_PARAMS,
      // The agent's own endpoints are not the app's traffic.
      ignoreIncomingRequestHook: (request: IncomingMessage) => {
        const server = (request.socket as { server?: object } | undefined)?.server;
        return server !== undefined && agentServers.has(server);
      },
    });
  },
  undici: () => {
    const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici') as typeof import('@opentelemetry/instrumentation-undici');
    return new UndiciInstrumentation();
  },
  pg: () => {
    const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
    // SQL text is kept (parameter values never are); the pool's connect spans are noise.
    return new PgInstrumentation({ enhancedDatabaseReporting: false, ignoreConnectSpans: true });
  },
  ioredis: () => {
    const { IORedisInstrumentation } = require('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');
    // Commands outside a request (the client's own handshake, background jobs) make no root spans.
    return new IORedisInstrumentation({ requireParentSpan: true });
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
  pg: ['pg', 'pg-pool'],
  ioredis: ['ioredis'],
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
