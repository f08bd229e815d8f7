/**
 * Reads the agent's configuration from environment variables. Pure: the environment and the
 * app's package.json facts come in, the config and one warning per bad variable come out.
 * Every variable read here is listed in the README's configuration table.
 */
import { INTEGRATIONS } from '../integrations/registry';
import { canonicalInstrumentationName, INSTRUMENTATION_NAMES, resolveInstrumentations } from './instrumentation-names';
import { clip, EnvReader, nonBlank, type ConfigWarning, type Env } from './reader';
import type { AgentConfig, LogLevel, OtlpProtocol, SamplerName } from './types';
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
  return { config, warnings };
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

  const protocol = read(
    'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
    parseProtocol,
    read('OTEL_EXPORTER_OTLP_PROTOCOL', parseProtocol, DEFAULTS.otlpProtocol, 'http/protobuf or http/json'),
    'http/protobuf or http/json',
  );
  const headers = {
    ...read('OTEL_EXPORTER_OTLP_HEADERS', parseKeyValueList, {}, 'a key=value,... list'),
    ...read('OTEL_EXPORTER_OTLP_TRACES_HEADERS', parseKeyValueList, {}, 'a key=value,... list'),
  };

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
