/**
 * The catalogue of every metric the agent's own modules can put on `/metrics`: its name, type,
 * unit, labels and HELP text, the module that creates it and whether it is on by default. Each
 * owner module takes its name, description and unit from here (`CATALOGUE.httpRequests.name`),
 * so every metric name is written once in src/; test/unit/metric-catalogue.test.ts keeps it that
 * way, checks the table against what the modules really emit, and keeps docs/metrics.md equal to
 * the table.
 *
 * Not listed, because the agent's modules do not create them: the OpenTelemetry SDK's own span
 * pipeline self-metrics (`otel_sdk_*`, when traces are on) and the instruments of the OpenTelemetry
 * instrumentation libraries (only with TUTOR_OTEL_SEMCONV_METRICS=true).
 */

export type MetricType = 'counter' | 'histogram' | 'gauge';

export interface MetricDefinition {
  /** The family name on `/metrics`, as the Prometheus exporter writes it. */
  readonly name: string;
  /** The OpenTelemetry instrument name, when it differs from `name` (the exporter turns its dots into underscores). */
  readonly instrument?: string;
  readonly type: MetricType;
  /** The OpenTelemetry unit (`s`, `By`, `{token}`), written on `/metrics` as `# UNIT`; none when absent. */
  readonly unit?: string;
  /** Label names on `/metrics`, besides the constant `service` (and `le` of a histogram's buckets). */
  readonly labels: readonly string[];
  /** The HELP text. `{priceTable}` stands for the price table's version (`ai_cost_usd_total`). */
  readonly description: string;
  /** The module that creates the instrument (a path, for the docs). */
  readonly owner: string;
  /** Emitted without any setting beyond its integration's defaults (once there is something to count). */
  readonly onByDefault: boolean;
  /** What turns it on, or when it appears, for the docs. */
  readonly when?: string;
}

const HTTP = 'src/metrics/http-metrics.ts';
const DB = 'src/metrics/db-metrics.ts';
const CACHE = 'src/metrics/cache-metrics.ts';
const RUNTIME = 'src/metrics/runtime-metrics.ts';
const AI = 'src/ai/metrics.ts';
const SENTRY = 'src/sentry/metrics.ts';

const SEMCONV = 'TUTOR_OTEL_SEMCONV_METRICS=true';
const AI_SEMCONV = 'TUTOR_OTEL_AI_SEMCONV_METRICS=true';
const LINUX = 'on Linux (read from /proc)';
/** The event-loop delay statistics: Node's delay histogram, sampled every 10 ms and reset at each scrape. */
const SINCE_SCRAPE = 'since the previous scrape, in seconds (sampled every 10 ms, which an idle loop reads as about 0.01)';

/** The placeholder in `aiCost.description` for the price table's version. */
export const PRICE_TABLE_PLACEHOLDER = '{priceTable}';

export const CATALOGUE = {
  // HTTP server (integration `http`)
  httpRequests: {
    name: 'http_requests_total',
    type: 'counter',
    labels: ['method', 'route', 'status_code'],
    description: 'HTTP requests served by the app, by method, route and status code',
    owner: HTTP,
    onByDefault: true,
  },
  httpRequestDuration: {
    name: 'http_request_duration_seconds',
    type: 'histogram',
    unit: 's',
    labels: ['method', 'route', 'status_code'],
    description: 'Time from request headers received to response finished',
    owner: HTTP,
    onByDefault: true,
  },
  activeConnections: {
    name: 'active_connections',
    type: 'gauge',
    labels: [],
    description: "Open client connections to the app's HTTP servers",
    owner: HTTP,
    onByDefault: true,
  },
  httpServerRequestDuration: {
    name: 'http_server_request_duration',
    instrument: 'http.server.request.duration',
    type: 'histogram',
    unit: 's',
    labels: ['http_request_method', 'http_route', 'http_response_status_code', 'url_scheme'],
    description: 'Duration of HTTP server requests (OpenTelemetry HTTP semantic conventions)',
    owner: HTTP,
    onByDefault: false,
    when: SEMCONV,
  },

  // Database (integration `pg`)
  dbQueryDuration: {
    name: 'db_query_duration_seconds',
    type: 'histogram',
    unit: 's',
    labels: ['db_system', 'operation', 'status'],
    description: 'Database query time as the app saw it (queueing in the client included), by SQL verb and outcome',
    owner: DB,
    onByDefault: true,
  },
  dbClientOperationDuration: {
    name: 'db_client_operation_duration',
    instrument: 'db.client.operation.duration',
    type: 'histogram',
    unit: 's',
    labels: ['db_system_name', 'db_operation_name', 'error_type'],
    description: 'Duration of database client operations (OpenTelemetry database semantic conventions)',
    owner: DB,
    onByDefault: false,
    when: SEMCONV,
  },

  // Cache (integration `ioredis`)
  cacheOperations: {
    name: 'cache_operations_total',
    type: 'counter',
    labels: ['operation', 'result'],
    description: 'Cache commands: reads as hit or miss (per key for multi-key reads), other commands as ok or error',
    owner: CACHE,
    onByDefault: true,
  },

  // Process and Node.js runtime (integration `runtime`, always on): prom-client's default set
  // (`collectDefaultMetrics()`) under its names, labels, types and meaning, plus the heap and
  // cgroup memory limits.
  processCpuUserSeconds: {
    name: 'process_cpu_user_seconds_total',
    type: 'counter',
    unit: 's',
    labels: [],
    description: 'User CPU time spent, in seconds',
    owner: RUNTIME,
    onByDefault: true,
  },
  processCpuSystemSeconds: {
    name: 'process_cpu_system_seconds_total',
    type: 'counter',
    unit: 's',
    labels: [],
    description: 'System CPU time spent, in seconds',
    owner: RUNTIME,
    onByDefault: true,
  },
  processCpuSeconds: {
    name: 'process_cpu_seconds_total',
    type: 'counter',
    unit: 's',
    labels: [],
    description: 'User and system CPU time spent, in seconds',
    owner: RUNTIME,
    onByDefault: true,
  },
  processStartTime: {
    name: 'process_start_time_seconds',
    type: 'gauge',
    unit: 's',
    labels: [],
    description: 'Start time of the process since the Unix epoch, in seconds',
    owner: RUNTIME,
    onByDefault: true,
  },
  processResidentMemory: {
    name: 'process_resident_memory_bytes',
    type: 'gauge',
    unit: 'By',
    labels: [],
    description: 'Resident set size, in bytes',
    owner: RUNTIME,
    onByDefault: true,
  },
  processVirtualMemory: {
    name: 'process_virtual_memory_bytes',
    type: 'gauge',
    unit: 'By',
    labels: [],
    description: 'Virtual memory size (VmSize), in bytes',
    owner: RUNTIME,
    onByDefault: true,
    when: LINUX,
  },
  processHeap: {
    name: 'process_heap_bytes',
    type: 'gauge',
    unit: 'By',
    labels: [],
    description: 'Data segment of the process (VmData), in bytes',
    owner: RUNTIME,
    onByDefault: true,
    when: LINUX,
  },
  processOpenFds: {
    name: 'process_open_fds',
    type: 'gauge',
    labels: [],
    description: 'Open file descriptors',
    owner: RUNTIME,
    onByDefault: true,
    when: LINUX,
  },
  processMaxFds: {
    name: 'process_max_fds',
    type: 'gauge',
    labels: [],
    description: 'Limit on open file descriptors (the soft limit at start)',
    owner: RUNTIME,
    onByDefault: true,
    when: LINUX,
  },
  processMemoryLimit: {
    name: 'process_memory_limit_bytes',
    type: 'gauge',
    unit: 'By',
    labels: [],
    description: 'Memory limit of the cgroup (container) the process runs in, in bytes; absent when unlimited',
    owner: RUNTIME,
    onByDefault: true,
    when: 'the process runs in a memory-limited cgroup',
  },
  nodejsEventloopLag: {
    name: 'nodejs_eventloop_lag_seconds',
    type: 'gauge',
    unit: 's',
    labels: [],
    description: 'Event-loop lag at the scrape, in seconds: how long a callback queued with setImmediate waited to run',
    owner: RUNTIME,
    onByDefault: true,
  },
  nodejsEventloopLagMin: {
    name: 'nodejs_eventloop_lag_min_seconds',
    type: 'gauge',
    unit: 's',
    labels: [],
    description: `Smallest event-loop delay ${SINCE_SCRAPE}`,
    owner: RUNTIME,
    onByDefault: true,
  },
  nodejsEventloopLagMax: {
    name: 'nodejs_eventloop_lag_max_seconds',
    type: 'gauge',
    unit: 's',
    labels: [],
    description: `Largest event-loop delay ${SINCE_SCRAPE}`,
    owner: RUNTIME,
    onByDefault: true,
  },
  nodejsEventloopLagMean: {
    name: 'nodejs_eventloop_lag_mean_seconds',
    type: 'gauge',
    unit: 's',
    labels: [],
    description: `Mean event-loop delay ${SINCE_SCRAPE}`,
    owner: RUNTIME,
    onByDefault: true,
  },
  nodejsEventloopLagStddev: {
    name: 'nodejs_eventloop_lag_stddev_seconds',
    type: 'gauge',
    unit: 's',
    labels: [],
    description: `Standard deviation of the event-loop delay ${SINCE_SCRAPE}`,
    owner: RUNTIME,
    onByDefault: true,
  },
  nodejsEventloopLagP50: {
    name: 'nodejs_eventloop_lag_p50_seconds',
    type: 'gauge',
    unit: 's',
    labels: [],
    description: `Median event-loop delay ${SINCE_SCRAPE}`,
    owner: RUNTIME,
    onByDefault: true,
  },
  nodejsEventloopLagP90: {
    name: 'nodejs_eventloop_lag_p90_seconds',
    type: 'gauge',
    unit: 's',
    labels: [],
    description: `90th percentile of the event-loop delay ${SINCE_SCRAPE}`,
    owner: RUNTIME,
    onByDefault: true,
  },
  nodejsEventloopLagP99: {
    name: 'nodejs_eventloop_lag_p99_seconds',
    type: 'gauge',
    unit: 's',
    labels: [],
    description: `99th percentile of the event-loop delay ${SINCE_SCRAPE}`,
    owner: RUNTIME,
    onByDefault: true,
  },
  nodejsActiveResources: {
    name: 'nodejs_active_resources',
    type: 'gauge',
    labels: ['type'],
    description: 'Resources keeping the event loop alive (process.getActiveResourcesInfo()), by type',
    owner: RUNTIME,
    onByDefault: true,
  },
  nodejsActiveResourcesTotal: {
    name: 'nodejs_active_resources_total',
    type: 'gauge',
    labels: [],
    description: 'Resources keeping the event loop alive, all types',
    owner: RUNTIME,
    onByDefault: true,
  },
  nodejsActiveHandles: {
    name: 'nodejs_active_handles',
    type: 'gauge',
    labels: ['type'],
    description: 'Live libuv handles, by the class name of their JavaScript owner (Socket, Server, ...)',
    owner: RUNTIME,
    onByDefault: true,
  },
  nodejsActiveHandlesTotal: {
    name: 'nodejs_active_handles_total',
    type: 'gauge',
    labels: [],
    description: 'Live libuv handles, all types',
    owner: RUNTIME,
    onByDefault: true,
  },
  nodejsActiveRequests: {
    name: 'nodejs_active_requests',
    type: 'gauge',
    labels: ['type'],
    description: 'Pending libuv requests (file system, DNS, ...), by the class name of their JavaScript owner',
    owner: RUNTIME,
    onByDefault: true,
    when: 'a libuv request is pending at the scrape',
  },
  nodejsActiveRequestsTotal: {
    name: 'nodejs_active_requests_total',
    type: 'gauge',
    labels: [],
    description: 'Pending libuv requests, all types',
    owner: RUNTIME,
    onByDefault: true,
  },
  nodejsHeapSizeTotal: {
    name: 'nodejs_heap_size_total_bytes',
    type: 'gauge',
    unit: 'By',
    labels: [],
    description: 'V8 heap size, in bytes',
    owner: RUNTIME,
    onByDefault: true,
  },
  nodejsHeapSizeUsed: {
    name: 'nodejs_heap_size_used_bytes',
    type: 'gauge',
    unit: 'By',
    labels: [],
    description: 'V8 heap in use, in bytes',
    owner: RUNTIME,
    onByDefault: true,
  },
  nodejsExternalMemory: {
    name: 'nodejs_external_memory_bytes',
    type: 'gauge',
    unit: 'By',
    labels: [],
    description: 'Memory of C++ objects bound to JavaScript objects, in bytes',
    owner: RUNTIME,
    onByDefault: true,
  },
  nodejsHeapSizeLimit: {
    name: 'nodejs_heap_size_limit_bytes',
    type: 'gauge',
    unit: 'By',
    labels: [],
    description: 'V8 heap size limit (--max-old-space-size), in bytes',
    owner: RUNTIME,
    onByDefault: true,
  },
  nodejsHeapSpaceSizeTotal: {
    name: 'nodejs_heap_space_size_total_bytes',
    type: 'gauge',
    unit: 'By',
    labels: ['space'],
    description: 'Size of each V8 heap space (new, old, code, ...), in bytes',
    owner: RUNTIME,
    onByDefault: true,
  },
  nodejsHeapSpaceSizeUsed: {
    name: 'nodejs_heap_space_size_used_bytes',
    type: 'gauge',
    unit: 'By',
    labels: ['space'],
    description: 'Bytes in use in each V8 heap space',
    owner: RUNTIME,
    onByDefault: true,
  },
  nodejsHeapSpaceSizeAvailable: {
    name: 'nodejs_heap_space_size_available_bytes',
    type: 'gauge',
    unit: 'By',
    labels: ['space'],
    description: 'Bytes still available in each V8 heap space',
    owner: RUNTIME,
    onByDefault: true,
  },
  nodejsVersionInfo: {
    name: 'nodejs_version_info',
    type: 'gauge',
    labels: ['version', 'major', 'minor', 'patch'],
    description: 'Node.js version',
    owner: RUNTIME,
    onByDefault: true,
  },
  nodejsGcDuration: {
    name: 'nodejs_gc_duration_seconds',
    type: 'histogram',
    unit: 's',
    labels: ['kind'],
    description: 'Garbage collection pauses by kind, in seconds',
    owner: RUNTIME,
    onByDefault: true,
  },

  // AI calls (integrations `openai` and `anthropic`)
  aiGenerationDuration: {
    name: 'ai_generation_duration_seconds',
    type: 'histogram',
    unit: 's',
    labels: ['provider', 'model', 'operation', 'stream'],
    description: 'Time from the call to the whole answer (all retries and, for streams, the last event), by provider, model, operation and stream',
    owner: AI,
    onByDefault: true,
  },
  aiGenerations: {
    name: 'ai_generation_total',
    type: 'counter',
    labels: ['provider', 'model', 'operation', 'status'],
    description: 'Generations by provider, model, operation and status (success, error, cancelled)',
    owner: AI,
    onByDefault: true,
  },
  aiApiCalls: {
    name: 'openai_api_calls_total',
    type: 'counter',
    labels: ['model', 'operation', 'status_code'],
    description: 'HTTP attempts to the model APIs (each SDK retry is one), by model, operation and status code',
    owner: AI,
    onByDefault: true,
  },
  aiTokens: {
    name: 'openai_tokens_used_total',
    type: 'counter',
    labels: ['model', 'token_type', 'route'],
    description: 'Tokens reported by the model APIs, by model, token type (input, output) and route',
    owner: AI,
    onByDefault: true,
  },
  aiCachedInputTokens: {
    name: 'openai_cached_input_tokens_total',
    type: 'counter',
    labels: ['model', 'route'],
    description: 'The input tokens read from the prompt cache (a part of the input tokens), by model and route',
    owner: AI,
    onByDefault: true,
  },
  aiReasoningTokens: {
    name: 'openai_reasoning_tokens_total',
    type: 'counter',
    labels: ['model', 'route'],
    description: 'The output tokens spent on reasoning (a part of the output tokens), by model and route',
    owner: AI,
    onByDefault: true,
  },
  aiTimeToFirstToken: {
    name: 'ai_time_to_first_token_seconds',
    type: 'histogram',
    unit: 's',
    labels: ['provider', 'model', 'operation'],
    description: 'Streamed generations: time from the call to the first generated content',
    owner: AI,
    onByDefault: true,
  },
  aiCost: {
    name: 'ai_cost_usd_total',
    type: 'counter',
    labels: ['provider', 'model', 'route'],
    description: `Estimated cost in US dollars from the price table (${PRICE_TABLE_PLACEHOLDER}), by provider, model and route`,
    owner: AI,
    onByDefault: true,
  },
  aiUnpricedCalls: {
    name: 'ai_unpriced_calls_total',
    type: 'counter',
    labels: ['provider', 'model'],
    description: 'Generations with token usage whose model the price table does not know (no cost counted)',
    owner: AI,
    onByDefault: true,
  },
  genAiClientOperationDuration: {
    name: 'gen_ai_client_operation_duration',
    instrument: 'gen_ai.client.operation.duration',
    type: 'histogram',
    unit: 's',
    labels: ['gen_ai_provider_name', 'gen_ai_operation_name', 'gen_ai_request_model', 'gen_ai_response_model', 'error_type'],
    description: 'GenAI operation duration',
    owner: AI,
    onByDefault: false,
    when: AI_SEMCONV,
  },
  genAiClientTokenUsage: {
    name: 'gen_ai_client_token_usage',
    instrument: 'gen_ai.client.token.usage',
    type: 'histogram',
    unit: '{token}',
    labels: ['gen_ai_provider_name', 'gen_ai_operation_name', 'gen_ai_request_model', 'gen_ai_response_model', 'gen_ai_token_type', 'error_type'],
    description: 'Measures number of input and output tokens used',
    owner: AI,
    onByDefault: false,
    when: AI_SEMCONV,
  },

  // Sentry self-metrics (integration `sentry`, only with SENTRY_DSN)
  sentryEventsDropped: {
    name: 'otel_agent_sentry_events_dropped_total',
    type: 'counter',
    labels: ['reason'],
    description: 'Error events the agent did not deliver to Sentry, by reason',
    owner: SENTRY,
    onByDefault: false,
    when: 'SENTRY_DSN is set',
  },
  sentrySpansDropped: {
    name: 'otel_agent_sentry_spans_dropped_total',
    type: 'counter',
    labels: ['reason'],
    description: "Spans the agent did not deliver to Sentry's OTLP endpoint, by reason",
    owner: SENTRY,
    onByDefault: false,
    when: 'SENTRY_DSN is set',
  },
} as const satisfies Readonly<Record<string, MetricDefinition>>;

export type MetricKey = keyof typeof CATALOGUE;

/** Every entry, in the catalogue's order. */
export const METRICS: readonly MetricDefinition[] = Object.values(CATALOGUE);

/** The name an owner module gives its OpenTelemetry instrument. */
export function instrumentName(metric: MetricDefinition): string {
  return metric.instrument ?? metric.name;
}
