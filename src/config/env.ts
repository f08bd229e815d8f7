/**
 * Reads the agent's configuration from environment variables. Pure: the environment and the
 * app's package.json facts come in, the config and one warning per bad variable come out.
 * Every variable read here is listed in the README's configuration table.
 */
import { INTEGRATIONS } from '../integrations/registry';
import { canonicalInstrumentationName, INSTRUMENTATION_NAMES, resolveInstrumentations } from './instrumentation-names';
import { clip, EnvReader, nonBlank, type ConfigWarning, type Env } from './reader';
import { unimplementedStandardVariables } from './standard-variables';
import type {
  AgentConfig,
  BatchSettings,
  LogLevel,
  MetricsExporterName,
  OtlpCompression,
  OtlpProtocol,
  PropagatorName,
  ResourceDetectorName,
  SamplerName,
  SpanLimitSettings,
} from './types';
import { parseBindHost, parseBoolean, parseHttpUrl, parseInteger, parseKeyValueList, parseList, parsePackageNames, parseRatio } from './parse';

export type { Env } from './reader';

export interface AppPackage {
  name?: string;
  version?: string;
}

export const DEFAULTS = {
  metricsHost: '0.0.0.0',
  metricsPort: 9464,
  logLevel: 'info' as LogLevel,
  httpRouteLimit: 200,
  maxConnections: 64,
  /** Label sets (method, route, status) per HTTP request metric before new ones fold. */
  httpSeriesLimit: 2000,
  // Flush time on SIGTERM, leaving room so the process is gone within 2 s even when every
  // destination is down (the OTLP exporter retries refused connections until the deadline).
  shutdownTimeoutMs: 1500,
  healthTimeoutMs: 1000,
  healthSlowMs: 500,
  otlpEndpoint: 'http://localhost:4318',
  otlpProtocol: 'http/protobuf' as OtlpProtocol,
  sampler: 'parentbased_always_on' as SamplerName,
  samplerRatio: 1,
  // The specification says 10 s; 5 s leaves room for a retry inside the shutdown deadline.
  otlpTimeoutMs: 5000,
  propagators: ['tracecontext', 'baggage'] as PropagatorName[],
  resourceDetectors: ['env', 'host', 'os', 'process', 'container', 'serviceinstance'] as ResourceDetectorName[],
  // The specification's defaults, except the export timeout (30 s there): a stalled Collector
  // holds a batch for 5 s at most.
  batch: { scheduleDelayMs: 5000, exportTimeoutMs: 5000, maxQueueSize: 2048, maxExportBatchSize: 512 } as BatchSettings,
  limits: {
    attributeValueLengthLimit: Infinity,
    attributeCountLimit: 128,
    eventCountLimit: 128,
    linkCountLimit: 128,
    attributePerEventCountLimit: 128,
    attributePerLinkCountLimit: 128,
  } as SpanLimitSettings,
  metricsExporters: ['prometheus'] as MetricsExporterName[],
  metricExportIntervalMs: 60000,
  metricExportTimeoutMs: 30000,
  /** Every health kind an integration declares is critical unless TUTOR_OTEL_HEALTH_CRITICAL says otherwise. */
  healthCritical: INTEGRATIONS.flatMap((i) => (i.health ? [i.health.kind] : [])),
};

const LOG_LEVELS: Record<string, LogLevel> = {
  none: 'none',
  error: 'error',
  warn: 'warn',
  info: 'info',
  debug: 'debug',
  verbose: 'debug',
  all: 'debug',
};

const SAMPLERS: SamplerName[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

export function readConfig(env: Env, app: AppPackage = {}): { config: AgentConfig; warnings: ConfigWarning[] } {
  const reader = new EnvReader(env);
  const read: Reader = (variable, parse, fallback, expected) => reader.read(variable, parse, fallback, expected);
  const warnings = reader.warnings;

  const resourceAttributes = read('OTEL_RESOURCE_ATTRIBUTES', parseKeyValueList, {}, 'a key=value,... list');
  const serviceName = nonBlank(env.OTEL_SERVICE_NAME) ?? nonBlank(resourceAttributes['service.name']) ?? nonBlank(app.name) ?? 'unknown_service:node';
  const serviceVersion = nonBlank(resourceAttributes['service.version']) ?? nonBlank(app.version) ?? '0.0.0';

  const enabledList = nonBlank(env.OTEL_NODE_ENABLED_INSTRUMENTATIONS);
  const enabled = enabledList === undefined ? undefined : parseList(enabledList);
  const disabled = parseList(env.OTEL_NODE_DISABLED_INSTRUMENTATIONS ?? '');
  const instrumentations = resolveInstrumentations(enabled, disabled);
  for (const [variable, list] of [
    ['OTEL_NODE_ENABLED_INSTRUMENTATIONS', enabled ?? []],
    ['OTEL_NODE_DISABLED_INSTRUMENTATIONS', disabled],
  ] as const) {
    for (const name of new Set(list)) {
      if (canonicalInstrumentationName(name)) continue;
      reader.warn(
        variable,
        `${variable} names "${clip(name)}", which this agent does not ship; it is ignored (known: ${INSTRUMENTATION_NAMES.join(', ')})`,
      );
    }
  }

  const config: AgentConfig = {
    serviceName,
    serviceVersion,
    resourceAttributes,
    logLevel: read('OTEL_LOG_LEVEL', (t) => ownValue(LOG_LEVELS, t.trim().toLowerCase()), DEFAULTS.logLevel, 'one of none, error, warn, info, debug'),
    metricsHost: read('OTEL_EXPORTER_PROMETHEUS_HOST', parseBindHost, DEFAULTS.metricsHost, 'a host name or IP address'),
    metricsPort: read('OTEL_EXPORTER_PROMETHEUS_PORT', (t) => parseInteger(t, 0, 65535), DEFAULTS.metricsPort, 'a port number (0-65535)'),
    maxConnections: read('TUTOR_OTEL_MAX_CONNECTIONS', (t) => parseInteger(t, 1, 10000), DEFAULTS.maxConnections, 'a whole number from 1 to 10000'),
    // Carried as given (blank is not unset): health/credentials.ts validates them and fails closed.
    auth: {
      bearer: { value: env.TUTOR_OTEL_AUTH_TOKEN, file: env.TUTOR_OTEL_AUTH_TOKEN_FILE },
      basic: { value: env.TUTOR_OTEL_AUTH_BASIC, file: env.TUTOR_OTEL_AUTH_BASIC_FILE },
    },
    instrumentations,
    httpRouteLimit: read('TUTOR_OTEL_HTTP_ROUTE_LIMIT', (t) => parseInteger(t, 1, 10000), DEFAULTS.httpRouteLimit, 'a whole number from 1 to 10000'),
    httpSeriesLimit: read(
      'TUTOR_OTEL_HTTP_SERIES_LIMIT',
      (t) => parseInteger(t, 100, 100000),
      DEFAULTS.httpSeriesLimit,
      'a whole number from 100 to 100000',
    ),
    semconvMetrics: read('TUTOR_OTEL_SEMCONV_METRICS', parseBoolean, false, 'true or false'),
    shutdownTimeoutMs: read(
      'TUTOR_OTEL_SHUTDOWN_TIMEOUT_MS',
      (t) => parseInteger(t, 0, 30000),
      DEFAULTS.shutdownTimeoutMs,
      'milliseconds from 0 to 30000',
    ),
    traces: readTraces(env, read),
    metrics: readMetrics(read),
    propagators: readNamedList(reader, 'OTEL_PROPAGATORS', PROPAGATORS, DEFAULTS.propagators, {}),
    resourceDetectors: readNamedList(reader, 'OTEL_NODE_RESOURCE_DETECTORS', RESOURCE_DETECTORS, DEFAULTS.resourceDetectors, {
      all: RESOURCE_DETECTORS,
    }),
    health: {
      timeoutMs: read('TUTOR_OTEL_HEALTH_TIMEOUT_MS', (t) => parseInteger(t, 10, 60000), DEFAULTS.healthTimeoutMs, 'milliseconds from 10 to 60000'),
      slowMs: read('TUTOR_OTEL_HEALTH_SLOW_MS', (t) => parseInteger(t, 1, 60000), DEFAULTS.healthSlowMs, 'milliseconds from 1 to 60000'),
      targets: readHealthTargets(read),
      critical: new Set(
        read(
          'TUTOR_OTEL_HEALTH_CRITICAL',
          (t) => {
            const list = parseList(t);
            return list.every((k) => DEFAULTS.healthCritical.includes(k) || k === 'none') ? list.filter((k) => k !== 'none') : undefined;
          },
          DEFAULTS.healthCritical,
          `a list of ${[...DEFAULTS.healthCritical, 'none'].join(', ')}`,
        ),
      ),
    },
    sentryDsn: nonBlank(env.SENTRY_DSN),
    aiPackageAliases: read('TUTOR_OTEL_AI_PACKAGE_ALIASES', parsePackageNames, [], 'a comma list of npm package names'),
  };
  // Only `true` turns the agent off (preflight.ts); any other value but `false` is a mistake worth a line.
  reader.read(
    'OTEL_SDK_DISABLED',
    (t) => (/^(true|false)$/i.test(t.trim()) ? true : undefined),
    true,
    'true or false (only true turns the agent off)',
    'false',
  );
  for (const { variable, why } of unimplementedStandardVariables(env)) {
    reader.warn(variable, `${variable} is set, but this agent does not implement it (${why}); it has no effect`);
  }
  return { config, warnings };
}

const PROPAGATORS: readonly PropagatorName[] = ['tracecontext', 'baggage', 'b3', 'b3multi'];
const RESOURCE_DETECTORS: readonly ResourceDetectorName[] = ['env', 'host', 'os', 'process', 'container', 'serviceinstance'];

/**
 * A standard list variable of names (OTEL_PROPAGATORS, OTEL_NODE_RESOURCE_DETECTORS): `none`
 * empties it, an alias expands, a name the agent does not implement is one warning and is skipped,
 * the others are kept in order, once each.
 */
function readNamedList<T extends string>(
  reader: EnvReader,
  variable: string,
  known: readonly T[],
  fallback: readonly T[],
  aliases: Record<string, readonly T[]>,
): T[] {
  const text = reader.text(variable);
  if (text === undefined) return [...fallback];
  const list = parseList(text);
  if (list.includes('none')) return [];
  const names = new Set<T>();
  for (const name of list) {
    if (Object.hasOwn(aliases, name)) for (const each of aliases[name]!) names.add(each);
    else if ((known as readonly string[]).includes(name)) names.add(name as T);
    else
      reader.warn(
        variable,
        `${variable} names "${clip(name)}", which this agent does not implement; it is ignored (known: ${[...known, ...Object.keys(aliases), 'none'].join(', ')})`,
      );
  }
  return [...names];
}

function readMetrics(read: Reader): AgentConfig['metrics'] {
  const exporters = read(
    'OTEL_METRICS_EXPORTER',
    (t) => {
      const list = parseList(t);
      if (!list.every((e) => e === 'prometheus' || e === 'otlp' || e === 'none')) return undefined;
      return list.includes('none') ? [] : [...new Set(list as MetricsExporterName[])];
    },
    DEFAULTS.metricsExporters,
    'a list of prometheus, otlp or none',
  );
  const endpoint = read('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', parseHttpUrl, undefined, 'an http(s) URL');
  const base = read('OTEL_EXPORTER_OTLP_ENDPOINT', parseHttpUrl, undefined, 'an http(s) URL');
  const exportIntervalMs = read(
    'OTEL_METRIC_EXPORT_INTERVAL',
    (t) => parseInteger(t, 100, 86_400_000),
    DEFAULTS.metricExportIntervalMs,
    'milliseconds from 100 to 86400000',
  );
  const exportTimeoutMs = read(
    'OTEL_METRIC_EXPORT_TIMEOUT',
    (t) => parseInteger(t, 100, 86_400_000),
    DEFAULTS.metricExportTimeoutMs,
    'milliseconds from 100 to 86400000',
  );
  return {
    exporters,
    exportIntervalMs,
    // The reader refuses a timeout longer than its interval.
    exportTimeoutMs: Math.min(exportTimeoutMs, exportIntervalMs),
    otlpEndpoint: endpoint ?? joinPath(base ?? DEFAULTS.otlpEndpoint, 'v1/metrics'),
    otlpProtocol: readSignal(read, 'METRICS', 'PROTOCOL', parseProtocol, DEFAULTS.otlpProtocol, 'http/protobuf or http/json'),
    otlpHeaders: readHeaders(read, 'METRICS'),
    otlpTimeoutMs: readSignal(read, 'METRICS', 'TIMEOUT', parseTimeout, DEFAULTS.otlpTimeoutMs, TIMEOUT_EXPECTED),
    otlpCompression: readSignal(read, 'METRICS', 'COMPRESSION', parseCompression, 'none', 'gzip or none'),
    prometheusTargetInfo: read('TUTOR_OTEL_PROMETHEUS_TARGET_INFO', parseBoolean, false, 'true or false'),
  };
}

const TIMEOUT_EXPECTED = 'milliseconds from 1 to 600000';
const parseTimeout = (t: string) => parseInteger(t, 1, 600_000);

/** OTEL_EXPORTER_OTLP_<SIGNAL>_<SETTING>, falling back to OTEL_EXPORTER_OTLP_<SETTING>, then to the default. */
function readSignal<T>(
  read: Reader,
  signal: 'TRACES' | 'METRICS',
  setting: string,
  parse: (text: string) => T | undefined,
  fallback: T,
  expected: string,
): T {
  return read(`OTEL_EXPORTER_OTLP_${signal}_${setting}`, parse, read(`OTEL_EXPORTER_OTLP_${setting}`, parse, fallback, expected), expected);
}

function readHeaders(read: Reader, signal: 'TRACES' | 'METRICS'): Record<string, string> {
  return {
    ...read('OTEL_EXPORTER_OTLP_HEADERS', parseKeyValueList, {}, 'a key=value,... list'),
    ...read(`OTEL_EXPORTER_OTLP_${signal}_HEADERS`, parseKeyValueList, {}, 'a key=value,... list'),
  };
}

function parseCompression(text: string): OtlpCompression | undefined {
  const value = text.trim().toLowerCase();
  return value === 'gzip' || value === 'none' ? value : undefined;
}

function readBatch(read: Reader): BatchSettings {
  const ms = (variable: string, fallback: number) => read(variable, (t) => parseInteger(t, 0, 600_000), fallback, 'milliseconds from 0 to 600000');
  const count = (variable: string, fallback: number) =>
    read(variable, (t) => parseInteger(t, 1, 1_000_000), fallback, 'a whole number from 1 to 1000000');
  const maxQueueSize = count('OTEL_BSP_MAX_QUEUE_SIZE', DEFAULTS.batch.maxQueueSize);
  return {
    scheduleDelayMs: ms('OTEL_BSP_SCHEDULE_DELAY', DEFAULTS.batch.scheduleDelayMs),
    exportTimeoutMs: ms('OTEL_BSP_EXPORT_TIMEOUT', DEFAULTS.batch.exportTimeoutMs),
    maxQueueSize,
    // The processor caps a batch at the queue size, as the specification says.
    maxExportBatchSize: Math.min(count('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', DEFAULTS.batch.maxExportBatchSize), maxQueueSize),
  };
}

function readLimits(read: Reader): SpanLimitSettings {
  const limit = (variable: string, fallback: number) => read(variable, (t) => parseInteger(t, 0, 1_000_000_000), fallback, 'a whole number');
  const { limits } = DEFAULTS;
  // The span-specific variable wins over the general one, which wins over the default.
  return {
    attributeValueLengthLimit: limit(
      'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT',
      limit('OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', limits.attributeValueLengthLimit),
    ),
    attributeCountLimit: limit('OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', limit('OTEL_ATTRIBUTE_COUNT_LIMIT', limits.attributeCountLimit)),
    eventCountLimit: limit('OTEL_SPAN_EVENT_COUNT_LIMIT', limits.eventCountLimit),
    linkCountLimit: limit('OTEL_SPAN_LINK_COUNT_LIMIT', limits.linkCountLimit),
    attributePerEventCountLimit: limit('OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT', limits.attributePerEventCountLimit),
    attributePerLinkCountLimit: limit('OTEL_LINK_ATTRIBUTE_COUNT_LIMIT', limits.attributePerLinkCountLimit),
  };
}

type Reader = <T>(variable: string, parse: (text: string) => T | undefined, fallback: T, expected: string) => T;

/** The extra /health targets each health-kind integration accepts from its variable. */
function readHealthTargets(read: Reader): AgentConfig['health']['targets'] {
  const targets: AgentConfig['health']['targets'] = [];
  for (const { health } of INTEGRATIONS) {
    if (!health) continue;
    const expected = `a ${health.urlProtocols.map((p) => `${p}//`).join(' or ')} URL`;
    const url = read(health.urlVariable, parseConnectionUrl(health.urlProtocols), undefined, expected);
    if (url !== undefined) targets.push({ kind: health.kind, url });
  }
  return targets;
}

function readTraces(env: Env, read: Reader): AgentConfig['traces'] {
  const tracesEndpoint = read('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', parseHttpUrl, undefined, 'an http(s) URL');
  const baseEndpoint = read('OTEL_EXPORTER_OTLP_ENDPOINT', parseHttpUrl, undefined, 'an http(s) URL');
  const anyEndpoint = tracesEndpoint ?? baseEndpoint;

  // Upstream defaults to exporting to localhost:4318 whether or not anything listens there. The
  // agent only creates spans when something consumes them: an exporter named, or an endpoint set.
  const defaultExporters: Array<'otlp' | 'console'> = anyEndpoint ? ['otlp'] : [];
  const exporters = read(
    'OTEL_TRACES_EXPORTER',
    (t) => {
      const list = parseList(t);
      if (!list.every((e) => e === 'otlp' || e === 'console' || e === 'none')) return undefined;
      return list.includes('none') ? [] : [...new Set(list as Array<'otlp' | 'console'>)];
    },
    defaultExporters,
    'a list of otlp, console or none',
  );

  const protocol = readSignal(read, 'TRACES', 'PROTOCOL', parseProtocol, DEFAULTS.otlpProtocol, 'http/protobuf or http/json');
  const headers = readHeaders(read, 'TRACES');

  let sampler = read('OTEL_TRACES_SAMPLER', (t) => SAMPLERS.find((s) => s === t.trim().toLowerCase()), DEFAULTS.sampler, `one of ${SAMPLERS.join(', ')}`);
  const samplerRatio = read('OTEL_TRACES_SAMPLER_ARG', parseRatio, DEFAULTS.samplerRatio, 'a ratio from 0 to 1');
  if (nonBlank(env.OTEL_TRACES_SAMPLER) === undefined && samplerRatio !== DEFAULTS.samplerRatio) {
    // A ratio alone is what users mean when they set only the argument.
    sampler = 'parentbased_traceidratio';
  }
  return {
    exporters,
    otlpEndpoint: tracesEndpoint ?? (baseEndpoint ? joinPath(baseEndpoint, 'v1/traces') : joinPath(DEFAULTS.otlpEndpoint, 'v1/traces')),
    otlpProtocol: protocol,
    otlpHeaders: headers,
    sampler,
    samplerRatio,
    otlpTimeoutMs: readSignal(read, 'TRACES', 'TIMEOUT', parseTimeout, DEFAULTS.otlpTimeoutMs, TIMEOUT_EXPECTED),
    otlpCompression: readSignal(read, 'TRACES', 'COMPRESSION', parseCompression, 'none', 'gzip or none'),
    batch: readBatch(read),
    limits: readLimits(read),
  };
}

function parseProtocol(text: string): OtlpProtocol | undefined {
  const value = text.trim().toLowerCase();
  return value === 'http/protobuf' || value === 'http/json' ? value : undefined;
}

function parseConnectionUrl(protocols: readonly string[]): (text: string) => string | undefined {
  return (text) => {
    try {
      const url = new URL(text.trim());
      // Credentials are decoded when used; a malformed escape is a bad value now, not a crash later.
      decodeURIComponent(url.username);
      decodeURIComponent(url.password);
      return protocols.includes(url.protocol) && url.hostname !== '' ? url.toString() : undefined;
    } catch {
      return undefined;
    }
  };
}

/** Appends a path to a base URL's path, keeping its query (some gateways route on it). */
function joinPath(base: string, path: string): string {
  const url = new URL(base);
  url.pathname = url.pathname.endsWith('/') ? url.pathname + path : `${url.pathname}/${path}`;
  return url.toString();
}

/** Lookup that ignores inherited keys (`constructor`, `__proto__`, ...). */
function ownValue<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
