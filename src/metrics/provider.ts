/**
 * The metrics pipeline: one OpenTelemetry MeterProvider read by the Prometheus exporter, which
 * the agent's own HTTP server calls on each scrape (the exporter's server is never started).
 *
 * The `service` label on every series comes from a resource attribute turned into a constant
 * label by the exporter, so no measurement pays for it; scope labels and `target_info` are off
 * because the dashboards and alerts select on the metric names and `service` alone.
 */
import type { Histogram, Meter } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { AgentConfig } from '../config/types';
import { AgentAggregates } from './aggregates';

export interface MetricsPipeline {
  provider: MeterProvider;
  /** What /metrics serves; undefined when OTEL_METRICS_EXPORTER leaves Prometheus out. */
  exporter: PrometheusExporter | undefined;
  /** The meter every metric module of the agent creates its instruments on. */
  meter: Meter;
  /** The per-request counters and histograms, summed by the agent (see aggregates.ts). */
  aggregates: AgentAggregates;
  /** Pushes what is not pushed yet (OTLP metrics), at shutdown. */
  flush(): Promise<void>;
}

/** What a metric module needs to create its instruments. */
export type MetricInstruments = Pick<MetricsPipeline, 'meter' | 'aggregates'>;

export const AGENT_SCOPE = '@tutor/otel-agent';

/**
 * @param detected the resource the agent built (lifecycle/resource.ts), when something shows it:
 *   `target_info` (TUTOR_OTEL_PROMETHEUS_TARGET_INFO) or pushed metrics; otherwise the service's
 *   name and version.
 */
export function createMetricsPipeline(config: AgentConfig, detected?: Resource): MetricsPipeline {
  const aggregates = new AgentAggregates(AGENT_SCOPE);
  const { exporters } = config.metrics;
  const exporter = exporters.includes('prometheus')
    ? new PrometheusExporter({
        preventServerStart: true,
        metricProducers: [aggregates],
        withoutScopeInfo: true,
        withoutTargetInfo: !config.metrics.prometheusTargetInfo,
        withResourceConstantLabels: /^service$/,
      })
    : undefined;
  const push = exporters.includes('otlp')
    ? (require('./otlp-push') as typeof import('./otlp-push')).createOtlpMetricReader(config.metrics, [aggregates], config.serviceName)
    : undefined;
  const base =
    detected ?? resourceFromAttributes({ ...config.resourceAttributes, 'service.name': config.serviceName, 'service.version': config.serviceVersion });
  const provider = new MeterProvider({
    // `service` becomes the constant label of every Prometheus series (see the exporter's options above).
    resource: base.merge(resourceFromAttributes({ service: config.serviceName })),
    readers: [...(exporter ? [exporter] : []), ...(push ? [push] : [])],
  });
  return {
    provider,
    exporter,
    meter: provider.getMeter(AGENT_SCOPE),
    aggregates,
    flush: () => push?.forceFlush() ?? Promise.resolve(),
  };
}

/** Does the metrics pipeline need the detected resource (it is shown somewhere)? */
export function metricsShowResource(config: AgentConfig): boolean {
  return config.metrics.prometheusTargetInfo || config.metrics.exporters.includes('otlp');
}

/**
 * A semantic-convention twin histogram (TUTOR_OTEL_SEMCONV_METRICS), on the SDK's instruments:
 * it is off by default, so it does not need the per-request economy of aggregates.ts.
 */
export function semconvHistogram(meter: Meter, enabled: boolean, name: string, description: string, buckets: number[]): Histogram | undefined {
  if (!enabled) return undefined;
  return meter.createHistogram(name, { description, unit: 's', advice: { explicitBucketBoundaries: buckets } });
}
