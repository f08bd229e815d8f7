/**
 * Starts the agent: config, metrics, the instrumentations that are enabled, tracing when something
 * consumes spans, the endpoints, and shutdown handling. Runs synchronously inside the preload so
 * every hook is in place before the app's first import; only the endpoint's listen is async.
 */
import { metrics as otelMetrics } from '@opentelemetry/api';
import { readAppPackage } from '../config/app-package';
import { readConfig } from '../config/env';
import type { AgentConfig } from '../config/types';
import { acceptedAuthorizations } from '../health/credentials';
import { DependencyRegistry } from '../health/dependencies';
import { HealthService } from '../health/health-service';
import { appPgClientClass, pgProbe } from '../health/pg-probe';
import { redisEndpointFromUrl, redisKey, redisProbe } from '../health/redis-probe';
import { startAgentServer } from '../health/server';
import { createRouteTemplateLookup, watchExpressRoutes, watchFastifyRoutes } from '../instrumentations/frameworks/route-template';
import { instrumentHttpServer } from '../instrumentations/http/server';
import { traceHttpServer } from '../instrumentations/http/server-spans';
import { instrumentIoredis } from '../instrumentations/ioredis/instrumentation';
import { installEsmHook } from '../instrumentations/module-hooks';
import { instrumentPg } from '../instrumentations/pg/instrumentation';
import { describeError, log, setLogLevel } from '../logging/logger';
import { CacheMetrics } from '../metrics/cache-metrics';
import { DbMetrics } from '../metrics/db-metrics';
import { HttpServerMetrics } from '../metrics/http-metrics';
import { createMetricsPipeline } from '../metrics/provider';
import { registerRuntimeMetrics } from '../metrics/runtime-metrics';
import type { Tracing } from '../tracing/tracing';
import { TRACED_PACKAGES } from '../tracing/instrumentations';
import { AI_PACKAGES } from '../ai/packages';
import { watchAppListening } from './app-state';
import type { AgentContext } from './context';
import { installShutdown, type Flusher } from './shutdown';

export function start(): void {
  const { config, warnings } = readConfig(process.env, readAppPackage());
  setLogLevel(config.logLevel);
  for (const warning of warnings) log.warn(warning.message);

  const dependencies = new DependencyRegistry();
  try {
    addConfiguredDependencies(config, dependencies);
  } catch (error) {
    log.warn(`the configured health check targets could not be read (${describeError(error)}); they are not probed`);
  }

  const pipeline = createMetricsPipeline(config);
  const { meter } = pipeline;
  const names = config.instrumentations;
  const flushers: Flusher[] = [];
  const context: AgentContext = {
    config,
    env: process.env,
    meter,
    meterProvider: pipeline.provider,
    dependencies,
    addFlusher: (flush) => flushers.push(flush),
  };

  // Sentry is loaded only with a DSN; it brings span processors, so it comes before tracing.
  let sentry: typeof import('../sentry') | undefined;
  let sentrySetup: import('../sentry').SentrySetup | undefined;
  if (process.env.SENTRY_DSN?.trim()) {
    try {
      sentry = require('../sentry') as typeof import('../sentry');
      sentrySetup = sentry.prepareSentry(context);
    } catch (error) {
      log.warn(`Sentry could not start (${describeError(error)}); errors are not reported to Sentry`);
    }
  }
  const extraSpanProcessors = sentrySetup?.spanProcessors ?? [];
  let tracesOn = config.traces.exporters.length > 0 || extraSpanProcessors.length > 0;
  if (tracesOn && anotherTracerProviderRegistered()) {
    // Two SDKs patching the same modules would make every span twice.
    log.warn('another OpenTelemetry SDK already registered a tracer provider; the agent leaves tracing to it and keeps its metrics and health endpoints');
    tracesOn = false;
  }
  const aiOn = names.has('openai') || names.has('anthropic');

  const hookedPackages = new Set<string>();
  if (names.has('pg')) hookedPackages.add('pg');
  if (names.has('ioredis')) hookedPackages.add('ioredis');
  if (aiOn) for (const pkg of AI_PACKAGES) hookedPackages.add(pkg);
  if (tracesOn) for (const name of names) for (const pkg of TRACED_PACKAGES[name]) hookedPackages.add(pkg);
  const esmHook = installEsmHook([...hookedPackages]);

  // Tracing first: the patches below take its tracer, and the upstream instrumentations it loads
  // (outgoing HTTP, Express, Fastify) re-wrap what they find already wrapped by another hand.
  let tracing: Tracing | undefined;
  if (tracesOn) {
    try {
      const { startTracing } = require('../tracing/tracing') as typeof import('../tracing/tracing');
      const instrumentationMeters = config.semconvMetrics ? pipeline.provider : otelMetrics.getMeterProvider();
      tracing = startTracing(config, names, instrumentationMeters, pipeline.provider, extraSpanProcessors);
      flushers.unshift(tracing.flush);
    } catch (error) {
      log.warn(`tracing could not start (${describeError(error)}); metrics and health go on without it`);
    }
  }
  const tracer = tracing?.tracer;
  if (names.has('pg')) instrumentPg(new DbMetrics(pipeline, config.semconvMetrics), dependencies, tracer);
  if (names.has('ioredis')) instrumentIoredis(new CacheMetrics(pipeline), dependencies, tracer);
  if (names.has('http')) {
    if (names.has('fastify')) watchFastifyRoutes();
    if (names.has('express')) watchExpressRoutes();
    const templates = createRouteTemplateLookup({ express: names.has('express'), fastify: names.has('fastify') });
    instrumentHttpServer(new HttpServerMetrics(pipeline, config.httpRouteLimit, config.semconvMetrics), templates);
    if (tracer) traceHttpServer(tracer, templates);
  }
  watchAppListening();
  registerRuntimeMetrics(meter);

  if (aiOn) {
    try {
      (require('../ai') as typeof import('../ai')).startAiMeters(context);
    } catch (error) {
      log.warn(`AI meters could not start (${describeError(error)}); the app is unaffected`);
    }
  }

  if (sentry && sentrySetup !== undefined) {
    try {
      sentry.startSentry(context);
    } catch (error) {
      log.warn(`Sentry could not start (${describeError(error)}); errors are not reported to Sentry`);
    }
  }

  const health = new HealthService(dependencies, config.health, { service: config.serviceName, version: config.serviceVersion });
  void startAgentServer({
    host: config.metricsHost,
    port: config.metricsPort,
    accepted: acceptedAuthorizations(config.auth),
    metrics: pipeline.exporter,
    health,
    maxConnections: config.maxConnections,
  }).then((server) => {
    const address = server?.address();
    const where = address && typeof address === 'object' ? `http://${config.metricsHost}:${address.port}` : 'off';
    log.info(
      `${config.serviceName}: /metrics /health /ready /live on ${where}; instrumentations: ${[...names].join(', ') || 'none'}; ` +
        `traces: ${tracesOn ? `${[...config.traces.exporters, ...(extraSpanProcessors.length > 0 ? ['sentry'] : [])].join('+')} ${config.traces.exporters.includes('otlp') ? config.traces.otlpEndpoint : ''}`.trim() : 'off'}; ESM hook: ${esmHook}`,
    );
  });

  installShutdown(flushers, config.shutdownTimeoutMs);
}

function addConfiguredDependencies(config: AgentConfig, dependencies: DependencyRegistry): void {
  const { databaseUrl, redisUrl } = config.health;
  if (databaseUrl) {
    dependencies.add({
      kind: 'database',
      key: `configured:${databaseUrl}`,
      probe: (timeoutMs) => {
        const Client = appPgClientClass();
        if (!Client) return Promise.reject(Object.assign(new Error('pg is not installed'), { code: 'NO_PG_DRIVER' }));
        return pgProbe(Client, databaseUrl)(timeoutMs);
      },
    });
  }
  if (redisUrl) {
    const endpoint = redisEndpointFromUrl(redisUrl);
    dependencies.add({ kind: 'redis', key: redisKey(endpoint), probe: redisProbe(endpoint) });
  }
}

/** Did something before the agent (another preload, an SDK started earlier) register a global tracer provider? */
function anotherTracerProviderRegistered(): boolean {
  const registry = (globalThis as Record<symbol, { trace?: unknown } | undefined>)[Symbol.for('opentelemetry.js.api.1')];
  return registry?.trace !== undefined;
}
