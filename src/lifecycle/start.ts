/**
 * Starts the agent: config, metrics, tracing when something consumes spans, every enabled
 * integration of the registry, the endpoints, and shutdown handling. Runs synchronously inside the
 * preload so every hook is in place before the app's first import; only the endpoint's listen is
 * async. This file names no integration: integrations/registry.ts lists them.
 */
import { metrics as otelMetrics } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import { readAppPackage } from '../config/app-package';
import { readConfig } from '../config/env';
import type { AgentConfig } from '../config/types';
import { answerPrimary, ClusterPrimary, clusterWorkerId, isClusterWorker } from '../health/cluster';
import { acceptedAuthorizations } from '../health/credentials';
import { DependencyRegistry } from '../health/dependencies';
import { HealthService } from '../health/health-service';
import { prometheusText } from '../health/metrics-text';
import { startAgentServer } from '../health/server';
import { redactUrl } from '../http/request-facts';
import { ServerRequests } from '../http/requests';
import { installEsmHook } from '../instrumentations/module-hooks';
import { INTEGRATIONS } from '../integrations/registry';
import type { Integration, IntegrationContext } from '../integrations/types';
import { describeError, log, setLogLevel } from '../logging/logger';
import { createMetricsPipeline } from '../metrics/provider';
import type { Tracing } from '../tracing/tracing';
import { installShutdown, type Flusher } from './shutdown';

export function start(): void {
  const { config, warnings } = readConfig(process.env, readAppPackage());
  setLogLevel(config.logLevel);
  for (const warning of warnings) log.warn(warning.message);

  const dependencies = new DependencyRegistry();
  addConfiguredDependencies(config, dependencies);

  const pipeline = createMetricsPipeline(config);
  const flushers: Flusher[] = [];
  const base: Omit<IntegrationContext, 'tracer'> = {
    config,
    env: process.env,
    metrics: pipeline,
    requests: new ServerRequests(),
    dependencies,
    addFlusher: (flush) => flushers.push(flush),
  };
  const enabled = INTEGRATIONS.filter((integration) => isEnabled(integration, config));

  // Before tracing: an integration may bring span processors (Sentry sends spans over OTLP).
  const extraSpanProcessors: SpanProcessor[] = [];
  const prepared = enabled.filter((integration) => {
    if (!integration.prepare) return true;
    try {
      extraSpanProcessors.push(...(integration.prepare(base) ?? []));
      return true;
    } catch (error) {
      log.warn(`${integration.name} could not start (${describeError(error)}); the app runs on without it`);
      return false;
    }
  });

  let tracesOn = config.traces.exporters.length > 0 || extraSpanProcessors.length > 0;
  if (tracesOn && anotherTracerProviderRegistered()) {
    // Two SDKs patching the same modules would make every span twice.
    log.warn('another OpenTelemetry SDK already registered a tracer provider; the agent leaves tracing to it and keeps its metrics and health endpoints');
    tracesOn = false;
  }

  const hookedPackages = new Set<string>();
  for (const integration of prepared) {
    for (const pkg of integration.patches?.(config) ?? []) hookedPackages.add(pkg);
    if (tracesOn) for (const pkg of integration.tracedPatches ?? []) hookedPackages.add(pkg);
  }
  const esmHook = installEsmHook([...hookedPackages]);

  // Tracing first: the integrations below take its tracer, and the upstream instrumentations it
  // loads (outgoing HTTP, fetch, Express, Fastify) re-wrap what they find already wrapped by another hand.
  let tracing: Tracing | undefined;
  if (tracesOn) {
    try {
      const { startTracing } = require('../tracing/tracing') as typeof import('../tracing/tracing');
      const instrumentationMeters = config.semconvMetrics ? pipeline.provider : otelMetrics.getMeterProvider();
      tracing = startTracing(config, prepared, instrumentationMeters, pipeline.provider, extraSpanProcessors);
      flushers.unshift(() => tracing!.flush());
    } catch (error) {
      log.warn(`tracing could not start (${describeError(error)}); metrics and health go on without it`);
    }
  }

  const context: IntegrationContext = { ...base, tracer: tracing?.tracer };
  for (const integration of prepared) {
    try {
      integration.start(context);
    } catch (error) {
      log.warn(`${integration.name} could not start (${describeError(error)}); the app runs on without it`);
    }
  }

  const health = new HealthService(dependencies, config.health, { service: config.serviceName, version: config.serviceVersion });
  const sentryOn = extraSpanProcessors.length > 0;
  const announce = (where: string): void =>
    log.info(
      `${config.serviceName}: /metrics /health /ready /live ${where}; instrumentations: ${[...config.instrumentations].join(', ') || 'none'}; ` +
        `traces: ${tracesOn ? `${[...config.traces.exporters, ...(sentryOn ? ['sentry'] : [])].join('+')} ${config.traces.exporters.includes('otlp') ? redactUrl(config.traces.otlpEndpoint ?? '') : ''}`.trim() : 'off'}; ESM hook: ${esmHook}`,
    );

  if (isClusterWorker()) {
    // The primary's agent serves the port for every worker (health/cluster.ts).
    answerPrimary({ metrics: prometheusText(pipeline.exporter), health: () => health.health(), ready: () => health.ready() }, () =>
      log.warn(
        `this process is cluster worker ${clusterWorkerId()}, and no agent in the cluster's primary asked for its metrics: they are not served. ` +
          'Preload the agent in the primary too (for PM2: start pm2 or pm2-runtime itself with NODE_OPTIONS="--import @tutor/otel-agent").',
      ),
    );
    announce(`served by the cluster's primary (this is worker ${clusterWorkerId()})`);
  } else {
    void startAgentServer({
      host: config.metricsHost,
      port: config.metricsPort,
      accepted: acceptedAuthorizations(config.auth),
      metrics: pipeline.exporter,
      health,
      maxConnections: config.maxConnections,
      cluster: ClusterPrimary.create(config.health.timeoutMs + 1_000),
    }).then((server) => {
      const address = server?.address();
      announce(address && typeof address === 'object' ? `on http://${config.metricsHost}:${address.port}` : 'off');
    });
  }

  installShutdown(flushers, config.shutdownTimeoutMs);
}

function isEnabled(integration: Integration, config: AgentConfig): boolean {
  if (integration.enabled) return integration.enabled(config);
  return integration.switchable && config.instrumentations.has(integration.name);
}

/** TUTOR_OTEL_HEALTH_*_URL targets, probed whether or not their integration is enabled. */
function addConfiguredDependencies(config: AgentConfig, dependencies: DependencyRegistry): void {
  for (const { kind, url } of config.health.targets) {
    const health = INTEGRATIONS.find((integration) => integration.health?.kind === kind)?.health;
    if (!health) continue;
    try {
      dependencies.add({ kind: health, ...health.configured(url) });
    } catch (error) {
      log.warn(`the configured ${health.label} health check target could not be read (${describeError(error)}); it is not probed`);
    }
  }
}

/** Did something before the agent (another preload, an SDK started earlier) register a global tracer provider? */
function anotherTracerProviderRegistered(): boolean {
  const registry = (globalThis as Record<symbol, { trace?: unknown } | undefined>)[Symbol.for('opentelemetry.js.api.1')];
  return registry?.trace !== undefined;
}
