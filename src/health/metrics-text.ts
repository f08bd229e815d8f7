/**
 * The Prometheus text of one scrape, rendered the way the exporter's own request handler renders
 * it (its `collect()` and its serializer, so the text is byte-for-byte the same), but as a string
 * the agent's server can hand to several responses instead of writing it into one.
 */
import { diag } from '@opentelemetry/api';
import type { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';

/** The content type the exporter's handler answers with. */
export const METRICS_CONTENT_TYPE = 'text/plain';

export function prometheusText(exporter: PrometheusExporter): () => Promise<string> {
  // The serializer configured in provider.ts (prefix, constant labels, no scope or target info).
  const serializer = (exporter as unknown as { _serializer: PrometheusSerializer })._serializer;
  return async () => {
    try {
      const { resourceMetrics, errors } = await exporter.collect();
      if (errors.length) diag.error('PrometheusExporter: metrics collection errors', ...errors);
      return serializer.serialize(resourceMetrics);
    } catch (error) {
      return `# failed to export metrics: ${String(error)}`;
    }
  };
}
