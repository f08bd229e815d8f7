/**
 * OTEL_METRICS_EXPORTER=otlp: the same series /metrics serves, pushed to a Collector over
 * OTLP/HTTP every OTEL_METRIC_EXPORT_INTERVAL. A PeriodicExportingMetricReader on the agent's
 * MeterProvider, with the agent's aggregates as a MetricProducer, exactly like the Prometheus
 * exporter; both may run at once. Loaded only when asked for.
 *
 * Every point carries the `service` attribute, as every series on /metrics carries the `service`
 * label (there it is a constant label from the resource): dashboards and alerts select on it
 * whichever way the series reached Prometheus.
 */
import type { MetricProducer, PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { PeriodicExportingMetricReader, AggregationTemporality } from '@opentelemetry/sdk-metrics';
import { otlpExporterOptions } from '../config/otlp-options';
import type { MetricsConfig } from '../config/types';

export function createOtlpMetricReader(config: MetricsConfig, producers: MetricProducer[], serviceName: string): PeriodicExportingMetricReader {
  const options = {
    ...otlpExporterOptions({
      endpoint: config.otlpEndpoint,
      headers: config.otlpHeaders,
      timeoutMs: config.otlpTimeoutMs,
      compression: config.otlpCompression,
    }),
    // The agent's aggregates are cumulative, as Prometheus reads them; the SDK's instruments follow.
    temporalityPreference: AggregationTemporality.CUMULATIVE,
  };
  const exporter: PushMetricExporter =
    config.otlpProtocol === 'http/json'
      ? new (require('@opentelemetry/exporter-metrics-otlp-http') as typeof import('@opentelemetry/exporter-metrics-otlp-http')).OTLPMetricExporter(
          options,
        )
      : new (require('@opentelemetry/exporter-metrics-otlp-proto') as typeof import('@opentelemetry/exporter-metrics-otlp-proto')).OTLPMetricExporter(
          options,
        );
  return new PeriodicExportingMetricReader({
    exporter: withServiceAttribute(exporter, serviceName),
    exportIntervalMillis: config.exportIntervalMs,
    exportTimeoutMillis: config.exportTimeoutMs,
    metricProducers: producers,
  });
}

/** The exporter, with `service` set on every data point it sends. */
export function withServiceAttribute(exporter: PushMetricExporter, serviceName: string): PushMetricExporter {
  return {
    export(metrics: ResourceMetrics, done) {
      for (const scope of metrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          for (const point of metric.dataPoints)
            (point as { attributes: Record<string, unknown> }).attributes = { ...point.attributes, service: serviceName };
        }
      }
      exporter.export(metrics, done);
    },
    forceFlush: () => exporter.forceFlush(),
    shutdown: () => exporter.shutdown(),
    ...(exporter.selectAggregationTemporality ? { selectAggregationTemporality: exporter.selectAggregationTemporality.bind(exporter) } : {}),
    ...(exporter.selectAggregation ? { selectAggregation: exporter.selectAggregation.bind(exporter) } : {}),
  };
}
