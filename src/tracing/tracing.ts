/**
 * Tracing, loaded only when something consumes spans (an OTLP endpoint or exporter is set). With
 * it off, no tracer provider is registered: instrumentation-free code paths stay untouched and
 * no span is ever created.
 */
import { context, propagation, trace, type MeterProvider } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, TracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { otlpExporterOptions } from '../config/otlp-options';
import type { AgentConfig, TracesConfig } from '../config/types';
import type { Integration } from '../integrations/types';
import { agentTracer, type AgentTracer } from './agent-tracer';
import { buildPropagator } from '../http/propagators';
import { fastIdGenerator } from './ids';
import { buildSampler } from './sampler';

export interface Tracing {
  /** The agent's own spans (HTTP server, pg, ioredis). */
  tracer: AgentTracer;
  /** Sends what is buffered; resolves when done or when the exporter gives up. */
  flush(): Promise<void>;
}

/**
 * The span processor of one exporter in OTEL_TRACES_EXPORTER. OTLP batches are bounded (when the
 * Collector is down, spans are dropped rather than held) and report on themselves on /metrics (the
 * SDK's otel_sdk_processor_span_* and otel_sdk_exporter_span_* series, with error_type on failures,
 * so a down or stalled Collector shows up there).
 */
function createProcessor(name: string, traces: TracesConfig, selfMetrics: MeterProvider): SpanProcessor {
  if (name === 'console') return new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() });
  const { batch } = traces;
  const batchOptions = {
    maxQueueSize: batch.maxQueueSize,
    maxExportBatchSize: batch.maxExportBatchSize,
    scheduledDelayMillis: batch.scheduleDelayMs,
    exportTimeoutMillis: batch.exportTimeoutMs,
    selfObsMeterProvider: selfMetrics,
  };
  const options = otlpExporterOptions(
    { endpoint: traces.otlpEndpoint ?? '', headers: traces.otlpHeaders, timeoutMs: traces.otlpTimeoutMs, compression: traces.otlpCompression },
    selfMetrics,
  );
  if (traces.otlpProtocol === 'http/json') {
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
    return new BatchSpanProcessor({ exporter: new OTLPTraceExporter(options), ...batchOptions });
  }
  // Protobuf: each span encoded as it ends, by the agent's encoder (encoding-batch-processor.ts says why).
  const { OtlpProtoTraceExporter } = require('./otlp-trace-exporter') as typeof import('./otlp-trace-exporter');
  const { EncodingBatchProcessor } = require('./encoding-batch-processor') as typeof import('./encoding-batch-processor');
  return new EncodingBatchProcessor(new OtlpProtoTraceExporter(options), batchOptions);
}

/**
 * @param integrations the enabled integrations: the upstream span instrumentations of those that
 *   have one are loaded here (outgoing HTTP, fetch, Express middleware spans)
 * @param instrumentationMeters where upstream instrumentations record their semantic-convention
 *   metrics (a no-op provider unless they were asked for)
 * @param selfMetrics where the span pipeline reports on itself (queue, drops, export failures)
 */
export function startTracing(
  config: AgentConfig,
  integrations: readonly Integration[],
  instrumentationMeters: MeterProvider,
  selfMetrics: MeterProvider,
  resource: Resource,
  extraSpanProcessors: SpanProcessor[] = [],
): Tracing {
  const spanProcessors = config.traces.exporters.map((name) => createProcessor(name, config.traces, selfMetrics));
  // One sampler, one list of processors and one id generator for the SDK's tracers (the app's
  // spans, upstream instrumentations) and the agent's own, so both decide and deliver alike.
  const sampler = buildSampler(config.traces.sampler, config.traces.samplerRatio);
  const processors = [...spanProcessors, ...extraSpanProcessors];
  const provider = new TracerProvider({
    resource,
    sampler,
    spanLimits: config.traces.limits,
    spanProcessors: processors,
    idGenerator: fastIdGenerator,
  });

  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(buildPropagator(config.propagators));
  trace.setGlobalTracerProvider(provider);

  for (const integration of integrations) {
    const instrumentation = integration.upstreamSpans?.();
    if (!instrumentation) continue;
    instrumentation.setTracerProvider(provider);
    // A no-op meter provider unless the semantic-convention twins were asked for.
    instrumentation.setMeterProvider(instrumentationMeters);
  }

  return {
    tracer: agentTracer(
      {
        resource,
        instrumentationScope: { name: '@tutor/otel-agent', version: undefined, schemaUrl: undefined },
        limits: config.traces.limits,
        processors,
        endingProcessors: processors.filter((processor) => processor.onEnding !== undefined),
      },
      sampler,
      config.traces.sampler,
    ),
    flush: () => provider.forceFlush(),
  };
}
