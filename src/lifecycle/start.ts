/**
 * Starts the agent: config, metrics, tracing when something consumes spans, every enabled
 * integration of the registry, the endpoints, and shutdown handling. Runs synchronously inside the
 * preload so every hook is in place before the app's first import; only the endpoint's listen is
 * async. This file names no integration: integrations/registry.ts lists them.
 */
import { createNoopMeter, metrics as otelMetrics, type MeterProvider } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
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
import { routeDiagnostics } from '../logging/diag';
import { describeError, log, setLogLevel } from '../logging/logger';
import { createMetricsPipeline, metricsShowResource } from '../metrics/provider';
import type { Tracing } from '../tracing/tracing';
import { installShutdown, type Flusher } from './shutdown';

export function start(): void {
  const { config, warnings } = readConfig(process.env, readAppPackage());
  setLogLevel(config.logLevel);
  for (const warning of warnings) log.warn(warning.message);

  const dependencies = new DependencyRegistry();
  addConfiguredDependencies(config, dependencies);

  routeDiagnostics(config.logLevel);

  // Built once when something shows it, so spans and metrics carry the same service.instance.id.
  let resource: Resource | undefined;
  // Its module (the resource detectors, which load node:crypto and node:os) is required only then.
  const resourceOnce = (): Resource => (resource ??= (require('./resource') as typeof import('./resource')).buildResource(config));
  const pipeline = createMetricsPipeline(config, metricsShowResource(config) ? resourceOnce() : undefined);
  const flushers: Flusher[] = [];
  if (config.metrics.exporters.includes('otlp')) flushers.push(() => pipeline.flush());
  const base: Omit<IntegrationContext, 'tracer'> = {
    config,
    env: process.env,
    metrics: pipeline,
    requests: new ServerRequests(),
    dependencies,
    channels: { redisCommands: [] },
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
  const registered = registeredByAnotherSdk();
  // The app's own instruments go to the SDK that registered a meter provider first, if any.
  const otherMeters = registered.metrics ? ' and the app’s own instruments' : '';
  let warnedAboutOtherSdk = false;
  if (tracesOn && registered.trace) {
    warnedAboutOtherSdk = true;
    // Two SDKs patching the same modules would make every span twice.
    log.warn(
      `another OpenTelemetry SDK already registered a tracer provider; the agent leaves tracing${otherMeters} to it and keeps its metrics and health endpoints`,
    );
    tracesOn = false;
  }

  const hookedPackages = new Set<string>();
  for (const integration of prepared) {
    for (const pkg of integration.patches?.(config) ?? []) hookedPackages.add(pkg);
    if (tracesOn) for (const pkg of integration.tracedPatches ?? []) hookedPackages.add(pkg);
  }
  const esmHook = installEsmHook([...hookedPackages]);

  // Tracing first: the integrations below take its tracer, and the upstream instrumentations it
  // loads (outgoing HTTP, fetch, Express) re-wrap what they find already wrapped by another hand.
  let tracing: Tracing | undefined;
  if (tracesOn) {
    try {
      const { startTracing } = require('../tracing/tracing') as typeof import('../tracing/tracing');
      const instrumentationMeters: MeterProvider = config.semconvMetrics ? pipeline.provider : { getMeter: () => createNoopMeter() };
      tracing = startTracing(config, prepared, instrumentationMeters, pipeline.provider, resourceOnce(), extraSpanProcessors);
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

  // The app's own instruments (`metrics.getMeter(...)` from its @opentelemetry/api) go to the
  // agent's MeterProvider: served on /metrics with the `service` label, pushed with the rest.
  // Registered after the upstream instrumentations were made, so they keep their no-op meters.
  if (registered.metrics) {
    if (!warnedAboutOtherSdk) {
      log.warn('another OpenTelemetry SDK already registered a meter provider; the app’s own instruments go there, not to the agent’s /metrics');
    }
  } else {
    otelMetrics.setGlobalMeterProvider(pipeline.provider);
  }

  const health = new HealthService(dependencies, config.health, { service: config.serviceName, version: config.serviceVersion });
  const sentryOn = extraSpanProcessors.length > 0;
  const announce = (where: string): void =>
    log.info(
      `${config.serviceName}: ${pipeline.exporter ? '/metrics ' : ''}/health /ready /live ${where}; instrumentations: ${[...config.instrumentations].join(', ') || 'none'}; ` +
        `${config.metrics.exporters.includes('otlp') ? `metrics pushed: otlp ${redactUrl(config.metrics.otlpEndpoint)}; ` : ''}` +
        `traces: ${tracesOn ? `${[...config.traces.exporters, ...(sentryOn ? ['sentry'] : [])].join('+')} ${config.traces.exporters.includes('otlp') ? redactUrl(config.traces.otlpEndpoint ?? '') : ''}`.trim() : 'off'}; ESM hook: ${esmHook}`,
    );

  if (isClusterWorker()) {
    // The primary's agent serves the port for every worker (health/cluster.ts).
    // Without the Prometheus exporter (OTEL_METRICS_EXPORTER=otlp alone) a worker has no text to hand over.
    const metricsText = pipeline.exporter ? prometheusText(pipeline.exporter) : () => Promise.resolve('');
    answerPrimary({ metrics: metricsText, health: () => health.health(), ready: () => health.ready() }, () =>
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

/** What something before the agent (another preload, an SDK started earlier) registered as global providers. */
function registeredByAnotherSdk(): { trace: boolean; metrics: boolean } {
  const registry = (globalThis as Record<symbol, { trace?: unknown; metrics?: unknown } | undefined>)[Symbol.for('opentelemetry.js.api.1')];
  return { trace: registry?.trace !== undefined, metrics: registry?.metrics !== undefined };
}
