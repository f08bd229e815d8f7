/**
 * The OTLP/HTTP protobuf span exporter: upstream's own exporter (@opentelemetry/exporter-trace-otlp-proto)
 * with one part swapped, the request serializer, for the agent's encoder (otlp-encoder.ts, which
 * says why). Everything else is upstream's, put together as its OTLPTraceExporter does: the HTTP
 * transport with its retries, timeout, compression and headers, the response parsing (partial
 * success included), and the exporter's self-metrics under the same component type.
 */
import type { OTLPExporterNodeConfigBase } from '@opentelemetry/otlp-exporter-base/node-http';
import type { IExportTraceServiceResponse, ISerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { OtlpTraceEncoder } from './otlp-encoder';

// Required, not imported: the bundle then takes these packages' CommonJS builds, the ones the
// http/json exporter (and before this module, the protobuf one) already brings, not a second copy.
const { OTLPExporterBase } = require('@opentelemetry/otlp-exporter-base') as typeof import('@opentelemetry/otlp-exporter-base');
const { convertLegacyHttpOptions, createOtlpHttpExportDelegate } =
  require('@opentelemetry/otlp-exporter-base/node-http') as typeof import('@opentelemetry/otlp-exporter-base/node-http');
const { ProtobufTraceSerializer, TraceExporterMetricsHelper } =
  require('@opentelemetry/otlp-transformer') as typeof import('@opentelemetry/otlp-transformer');

/**
 * otel.component.type of the exporter's self-metrics: the value upstream's protobuf span exporter
 * reports (OTEL_COMPONENT_TYPE_VALUE_OTLP_HTTP_SPAN_EXPORTER, incubating semantic conventions), so
 * dashboards built on upstream's exporter keep working.
 */
const COMPONENT_TYPE = 'otlp_http_span_exporter';

/** Spans encoded by the agent's encoder (one per exporter: its buffer and caches), responses by upstream. */
function traceSerializer(): ISerializer<ReadableSpan[], IExportTraceServiceResponse> {
  const encoder = new OtlpTraceEncoder();
  return {
    serializeRequest: (spans) => encoder.encode(spans),
    deserializeResponse: (data) => ProtobufTraceSerializer.deserializeResponse(data),
  };
}

export class OtlpProtoTraceExporter extends OTLPExporterBase<ReadableSpan[]> implements SpanExporter {
  constructor(options: OTLPExporterNodeConfigBase) {
    super(
      createOtlpHttpExportDelegate(
        convertLegacyHttpOptions(options, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
        traceSerializer(),
        COMPONENT_TYPE,
        TraceExporterMetricsHelper,
        options.selfObsMeterProvider,
      ),
    );
  }
}
