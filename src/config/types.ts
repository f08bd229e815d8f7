/** The agent's whole configuration, read once from the environment at start. */
import type { InstrumentationName } from './instrumentation-names';
export type LogLevel = 'none' | 'error' | 'warn' | 'info' | 'debug';

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export type OtlpCompression = 'gzip' | 'none';

export type SamplerName = 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';

/**
 * One credential setting exactly as given: undefined when the variable is unset, a blank string
 * when it is set but blank. Validated in one place, health/credentials.ts, which fails closed.
 */
export interface CredentialSource {
  /** The credential itself (TUTOR_OTEL_AUTH_TOKEN or TUTOR_OTEL_AUTH_BASIC), untrimmed. */
  value: string | undefined;
  /** The path of a file holding it (the *_FILE variable), untrimmed. */
  file: string | undefined;
}

/** OTEL_PROPAGATORS values the agent implements. */
export type PropagatorName = 'tracecontext' | 'baggage' | 'b3' | 'b3multi';

/** OTEL_NODE_RESOURCE_DETECTORS values the agent implements. */
export type ResourceDetectorName = 'env' | 'host' | 'os' | 'process' | 'container' | 'serviceinstance';

/** OTEL_METRICS_EXPORTER values. */
export type MetricsExporterName = 'prometheus' | 'otlp';

/** The batch span processor's settings (OTEL_BSP_*). */
export interface BatchSettings {
  scheduleDelayMs: number;
  exportTimeoutMs: number;
  maxQueueSize: number;
  maxExportBatchSize: number;
}

/** Span limits (OTEL_ATTRIBUTE_*, OTEL_SPAN_*, OTEL_EVENT_*, OTEL_LINK_* limits). */
export interface SpanLimitSettings {
  attributeValueLengthLimit: number;
  attributeCountLimit: number;
  eventCountLimit: number;
  linkCountLimit: number;
  attributePerEventCountLimit: number;
  attributePerLinkCountLimit: number;
}

export interface TracesConfig {
  /** Exporters to send spans to; empty means tracing stays off and no span is created. */
  exporters: Array<'otlp' | 'console'>;
  otlpEndpoint: string | undefined;
  otlpProtocol: OtlpProtocol;
  otlpHeaders: Record<string, string>;
  sampler: SamplerName;
  samplerRatio: number;
  /** Per-export deadline of the OTLP exporter (OTEL_EXPORTER_OTLP(_TRACES)_TIMEOUT). */
  otlpTimeoutMs: number;
  otlpCompression: OtlpCompression;
  batch: BatchSettings;
  limits: SpanLimitSettings;
}

export interface MetricsConfig {
  /** Where metrics go: Prometheus scrapes /metrics, OTLP pushes to the Collector; empty: neither. */
  exporters: MetricsExporterName[];
  /** OTEL_METRIC_EXPORT_INTERVAL: the push interval. */
  exportIntervalMs: number;
  /** OTEL_METRIC_EXPORT_TIMEOUT: the push deadline. */
  exportTimeoutMs: number;
  otlpEndpoint: string;
  otlpProtocol: OtlpProtocol;
  otlpHeaders: Record<string, string>;
  otlpTimeoutMs: number;
  otlpCompression: OtlpCompression;
  /** TUTOR_OTEL_PROMETHEUS_TARGET_INFO: also serve `target_info` with the resource on /metrics. */
  prometheusTargetInfo: boolean;
}

export interface HealthConfig {
  /** Per-probe deadline; a dependency that does not answer in time fails its check. */
  timeoutMs: number;
  /** A probe slower than this passes with status `warn` (the service reports `degraded`). */
  slowMs: number;
  /** Extra targets to probe beside the pools and clients the app creates, by health kind. */
  targets: Array<{ kind: string; url: string }>;
  /** Check kinds whose failure makes the service unhealthy and not ready. */
  critical: Set<string>;
}

export interface AgentConfig {
  serviceName: string;
  serviceVersion: string;
  resourceAttributes: Record<string, string>;
  logLevel: LogLevel;
  metricsHost: string;
  metricsPort: number;
  /** Open connections the agent's port accepts at once; more are closed on accept. */
  maxConnections: number;
  /**
   * Credentials required on /metrics and /health: a bearer token and/or a basic-auth `user:password`,
   * each given directly or as a file to read (a mounted secret). None set: the endpoints are open.
   */
  auth: {
    bearer: CredentialSource;
    basic: CredentialSource;
  };
  /** Short instrumentation names that are switched on. */
  instrumentations: Set<InstrumentationName>;
  httpRouteLimit: number;
  /** Label sets per HTTP request metric before new ones fold to `_OTHER`/`__overflow__`/status class. */
  httpSeriesLimit: number;
  /** Also keep the upstream semantic-convention metrics (http.server.request.duration, ...). */
  semconvMetrics: boolean;
  shutdownTimeoutMs: number;
  traces: TracesConfig;
  metrics: MetricsConfig;
  /** OTEL_PROPAGATORS: how trace context and baggage travel in headers; empty: not at all. */
  propagators: PropagatorName[];
  /** OTEL_NODE_RESOURCE_DETECTORS: what the resource of traces (and pushed metrics) describes. */
  resourceDetectors: ResourceDetectorName[];
  health: HealthConfig;
  /** SENTRY_DSN as given (parsed by the Sentry integration); undefined: Sentry is off. */
  sentryDsn: string | undefined;
  /** npm alias names under which the app installed openai or @anthropic-ai/sdk (TUTOR_OTEL_AI_PACKAGE_ALIASES). */
  aiPackageAliases: string[];
}
