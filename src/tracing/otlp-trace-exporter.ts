/**
 * The OTLP/HTTP protobuf span exporter: upstream's own exporter (@opentelemetry/exporter-trace-otlp-proto)
 * with one part swapped. Its input is a batch the agent already encoded (encoding-batch-processor.ts
 * encodes each span when it ends, with otlp-encoder.ts), so its serializer only hands the bytes
 * over. Everything else is upstream's, put together as its OTLPTraceExporter does: the HTTP
 * transport with its retries, timeout, compression and headers, the response parsing (partial
 * success included), and the exporter's self-metrics under the same component type, counting spans.
 */
import type { OTLPExporterNodeConfigBase } from '@opentelemetry/otlp-exporter-base/node-http';
import type { IExporterMetricsHelper, IExportTraceServiceResponse, ISerializer } from '@opentelemetry/otlp-transformer';

// Required, not imported: the bundle then takes these packages' CommonJS builds, the ones the
// http/json exporter already brings, not a second copy.
const { OTLPExporterBase } = require('@opentelemetry/otlp-exporter-base') as typeof import('@opentelemetry/otlp-exporter-base');
const { convertLegacyHttpOptions, createOtlpHttpExportDelegate } =
  require('@opentelemetry/otlp-exporter-base/node-http') as typeof import('@opentelemetry/otlp-exporter-base/node-http');
const { ProtobufTraceSerializer, TraceExporterMetricsHelper } =
  require('@opentelemetry/otlp-transformer') as typeof import('@opentelemetry/otlp-transformer');

/** A batch ready to send: an `ExportTraceServiceRequest`'s bytes, and how many spans it holds. */
export interface EncodedSpans {
  readonly bytes: Uint8Array;
  readonly count: number;
}

/**
 * otel.component.type of the exporter's self-metrics: the value upstream's protobuf span exporter
 * reports (OTEL_COMPONENT_TYPE_VALUE_OTLP_HTTP_SPAN_EXPORTER, incubating semantic conventions), so
 * dashboards built on upstream's exporter keep working.
 */
const COMPONENT_TYPE = 'otlp_http_span_exporter';

/** Requests go out as they were encoded; responses are decoded by upstream. */
const encodedSerializer: ISerializer<EncodedSpans, IExportTraceServiceResponse> = {
  serializeRequest: (batch) => batch.bytes,
  deserializeResponse: (data) => ProtobufTraceSerializer.deserializeResponse(data),
};

/** The self-metrics count spans, as upstream's helper does for an array of spans. */
const spanCount: IExporterMetricsHelper<EncodedSpans> = { name: TraceExporterMetricsHelper.name, countItems: (batch) => batch.count };

export class OtlpProtoTraceExporter extends OTLPExporterBase<EncodedSpans> {
  constructor(options: OTLPExporterNodeConfigBase) {
    super(
      createOtlpHttpExportDelegate(
        convertLegacyHttpOptions(options, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
        encodedSerializer,
        COMPONENT_TYPE,
        spanCount,
        options.selfObsMeterProvider,
      ),
    );
  }
}
