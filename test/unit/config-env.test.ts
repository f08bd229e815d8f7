import { describe, it, expect } from 'vitest';
import { DEFAULTS, readConfig, type Env } from '../../src/config/env';
import { INSTRUMENTATION_NAMES } from '../../src/config/instrumentation-names';

const ALL_INSTRUMENTATIONS: string[] = [...INSTRUMENTATION_NAMES];
const without = (...removed: string[]) => ALL_INSTRUMENTATIONS.filter((n) => !removed.includes(n)).sort();

function read(env: Env, app = {}) {
  return readConfig(env, app);
}

describe('readConfig defaults', () => {
  it('gives the documented defaults and no warning for an empty environment', () => {
    const { config, warnings } = read({});
    expect(warnings).toEqual([]);
    expect(config.serviceName).toBe('unknown_service:node');
    expect(config.serviceVersion).toBe('0.0.0');
    expect(config.resourceAttributes).toEqual({});
    expect(config.logLevel).toBe('info');
    expect(config.metricsHost).toBe('0.0.0.0');
    expect(config.metricsPort).toBe(9464);
    expect(config.auth).toEqual({ bearer: { value: undefined, file: undefined }, basic: { value: undefined, file: undefined } });
    expect([...config.instrumentations].sort()).toEqual([...ALL_INSTRUMENTATIONS].sort());
    expect(config.httpRouteLimit).toBe(200);
    expect(config.semconvMetrics).toBe(false);
    expect(config.shutdownTimeoutMs).toBe(1500);
    expect(config.health.timeoutMs).toBe(1000);
    expect(config.health.slowMs).toBe(500);
    expect(config.health.targets.find((t) => t.kind === 'database')?.url).toBeUndefined();
    expect(config.health.targets.find((t) => t.kind === 'redis')?.url).toBeUndefined();
    expect([...config.health.critical].sort()).toEqual(['database', 'redis']);
  });

  it('leaves traces off by default', () => {
    const { traces } = read({}).config;
    expect(traces.exporters).toEqual([]);
    expect(traces.sampler).toBe('parentbased_always_on');
    expect(traces.samplerRatio).toBe(1);
    expect(traces.otlpProtocol).toBe('http/protobuf');
    expect(traces.otlpHeaders).toEqual({});
    expect(traces.otlpEndpoint).toBe('http://localhost:4318/v1/traces');
  });

  it('treats empty and blank values as unset, without warnings', () => {
    const blank: Env = {};
    for (const name of VARIABLES.map((v) => v.variable)) blank[name] = '';
    const spaces: Env = {};
    for (const name of VARIABLES.map((v) => v.variable)) spaces[name] = '   ';
    for (const env of [blank, spaces]) {
      const { config, warnings } = read(env);
      expect(warnings).toEqual([]);
      expect(config.metricsPort).toBe(9464);
      expect(config.traces.exporters).toEqual([]);
      expect(config.traces.sampler).toBe('parentbased_always_on');
      expect([...config.instrumentations].sort()).toEqual([...ALL_INSTRUMENTATIONS].sort());
    }
  });

  it('does not let the defaults object be changed through a returned config', () => {
    const first = read({}).config;
    first.health.critical.add('extra');
    const second = read({}).config;
    expect([...second.health.critical].sort()).toEqual(['database', 'redis']);
    expect(DEFAULTS.healthCritical).toEqual(['database', 'redis']);
  });
});

interface VariableCase {
  variable: string;
  /** Bad values, each of which must fall back to the default with one warning. */
  bad: string[];
  /** How the default is spelled in the warning. */
  shownDefault: string;
  /** Reads the value the variable controls. */
  pick: (config: ReturnType<typeof read>['config']) => unknown;
  defaultValue: unknown;
}

const NUMBERS_BAD = ['-1', '9464.5', '1e3', 'abc', '99999999999999999999', '0x10', '12 34', '10ms'];

const VARIABLES: VariableCase[] = [
  {
    variable: 'OTEL_RESOURCE_ATTRIBUTES',
    bad: ['service.name', 'a=1,broken', '=x', 'k=%E0%A4%A'],
    shownDefault: '(none)',
    pick: (c) => c.resourceAttributes,
    defaultValue: {},
  },
  {
    variable: 'OTEL_LOG_LEVEL',
    bad: ['loud', 'warning', '3', 'infos'],
    shownDefault: 'info',
    pick: (c) => c.logLevel,
    defaultValue: 'info',
  },
  {
    variable: 'OTEL_EXPORTER_PROMETHEUS_HOST',
    bad: ['http://localhost', '127.0.0.1:9464', 'my host', 'host/path'],
    shownDefault: '0.0.0.0',
    pick: (c) => c.metricsHost,
    defaultValue: '0.0.0.0',
  },
  {
    variable: 'OTEL_EXPORTER_PROMETHEUS_PORT',
    bad: [...NUMBERS_BAD, '65536', '70000', '-9464'],
    shownDefault: '9464',
    pick: (c) => c.metricsPort,
    defaultValue: 9464,
  },
  {
    variable: 'TUTOR_OTEL_HTTP_ROUTE_LIMIT',
    bad: [...NUMBERS_BAD, '0', '10001', '200.5'],
    shownDefault: '200',
    pick: (c) => c.httpRouteLimit,
    defaultValue: 200,
  },
  {
    variable: 'TUTOR_OTEL_SEMCONV_METRICS',
    bad: ['maybe', '2', 'enabled', 'truthy'],
    shownDefault: 'false',
    pick: (c) => c.semconvMetrics,
    defaultValue: false,
  },
  {
    variable: 'TUTOR_OTEL_SHUTDOWN_TIMEOUT_MS',
    bad: [...NUMBERS_BAD, '30001', '2s', '2000.0'],
    shownDefault: '1500',
    pick: (c) => c.shutdownTimeoutMs,
    defaultValue: 1500,
  },
  {
    variable: 'TUTOR_OTEL_HEALTH_TIMEOUT_MS',
    bad: [...NUMBERS_BAD, '0', '9', '60001'],
    shownDefault: '1000',
    pick: (c) => c.health.timeoutMs,
    defaultValue: 1000,
  },
  {
    variable: 'TUTOR_OTEL_HEALTH_SLOW_MS',
    bad: [...NUMBERS_BAD, '0', '60001'],
    shownDefault: '500',
    pick: (c) => c.health.slowMs,
    defaultValue: 500,
  },
  {
    variable: 'TUTOR_OTEL_HEALTH_CRITICAL',
    bad: ['databse', 'database,mysql', 'all', 'true'],
    shownDefault: 'database,redis',
    pick: (c) => [...c.health.critical].sort(),
    defaultValue: ['database', 'redis'],
  },
  {
    variable: 'TUTOR_OTEL_HEALTH_DATABASE_URL',
    bad: ['mysql://app:Hunter2Secret@db:3306/app', 'not a url', 'db.internal:5432', 'http://app:Hunter2Secret@db/x'],
    shownDefault: '(none)',
    pick: (c) => c.health.targets.find((t) => t.kind === 'database')?.url,
    defaultValue: undefined,
  },
  {
    variable: 'TUTOR_OTEL_HEALTH_REDIS_URL',
    bad: ['http://:Hunter2Secret@cache:6379', 'cache:6379', 'memcached://cache', 'not a url'],
    shownDefault: '(none)',
    pick: (c) => c.health.targets.find((t) => t.kind === 'redis')?.url,
    defaultValue: undefined,
  },
  {
    variable: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    bad: ['collector:4318', 'grpc://collector:4317', 'not a url', 'ftp://user:Hunter2Secret@x'],
    shownDefault: '(none)',
    pick: (c) => c.traces.otlpEndpoint,
    defaultValue: 'http://localhost:4318/v1/traces',
  },
  {
    variable: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    bad: ['collector:4318', 'grpc://collector:4317', 'not a url', 'ftp://user:Hunter2Secret@x'],
    shownDefault: '(none)',
    pick: (c) => c.traces.otlpEndpoint,
    defaultValue: 'http://localhost:4318/v1/traces',
  },
  {
    variable: 'OTEL_TRACES_EXPORTER',
    bad: ['jaeger', 'zipkin', 'otlp,jaeger', 'prometheus'],
    shownDefault: '(none)',
    pick: (c) => c.traces.exporters,
    defaultValue: [],
  },
  {
    variable: 'OTEL_EXPORTER_OTLP_PROTOCOL',
    bad: ['grpc', 'http', 'protobuf', 'http/proto'],
    shownDefault: 'http/protobuf',
    pick: (c) => c.traces.otlpProtocol,
    defaultValue: 'http/protobuf',
  },
  {
    variable: 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
    bad: ['grpc', 'http', 'json'],
    shownDefault: 'http/protobuf',
    pick: (c) => c.traces.otlpProtocol,
    defaultValue: 'http/protobuf',
  },
  {
    variable: 'OTEL_EXPORTER_OTLP_HEADERS',
    bad: ['AuthorizationBearerHunter2Secret', 'Authorization=Bearer%ZZHunter2Secret', '=Hunter2Secret', 'a=1,Hunter2Secret'],
    shownDefault: '(none)',
    pick: (c) => c.traces.otlpHeaders,
    defaultValue: {},
  },
  {
    variable: 'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
    bad: ['x-api-keyHunter2Secret', 'x-api-key=%Hunter2Secret', '=Hunter2Secret'],
    shownDefault: '(none)',
    pick: (c) => c.traces.otlpHeaders,
    defaultValue: {},
  },
  {
    variable: 'OTEL_TRACES_SAMPLER',
    bad: ['sometimes', 'ratio', 'parentbased', 'always'],
    shownDefault: 'parentbased_always_on',
    pick: (c) => c.traces.sampler,
    defaultValue: 'parentbased_always_on',
  },
  {
    variable: 'OTEL_TRACES_SAMPLER_ARG',
    bad: ['1.5', '-0.1', 'half', '1e-1', '50%', '2'],
    shownDefault: '1',
    pick: (c) => c.traces.samplerRatio,
    defaultValue: 1,
  },
];

// OTEL_RESOURCE_ATTRIBUTES: people put keys and connection strings in resource attributes too.
const SECRET = /URL|ENDPOINT|HEADERS|TOKEN|RESOURCE_ATTRIBUTES/;

describe('readConfig bad values', () => {
  for (const c of VARIABLES) {
    describe(c.variable, () => {
      it.each(c.bad)('%j gives one warning naming the variable and the default, and the default is used', (value) => {
        const { config, warnings } = read({ [c.variable]: value });
        expect(warnings).toHaveLength(1);
        const [warning] = warnings;
        expect(warning!.variable).toBe(c.variable);
        expect(warning!.message).toContain(c.variable);
        expect(warning!.message).toContain(`using the default ${c.shownDefault}`);
        expect(c.pick(config)).toEqual(c.defaultValue);
      });
    });
  }

  for (const c of VARIABLES.filter((v) => SECRET.test(v.variable))) {
    it.each(c.bad)(`${c.variable}=%j is never echoed in the warning`, (value) => {
      const { warnings } = read({ [c.variable]: value });
      expect(warnings).toHaveLength(1);
      const message = warnings[0]!.message;
      expect(message).not.toContain(value);
      expect(message).not.toContain('Hunter2Secret');
      expect(message).toContain('(value hidden)');
    });
  }

  for (const c of VARIABLES.filter((v) => !SECRET.test(v.variable))) {
    it(`${c.variable}: a bad value is echoed (quoted) so the typo can be found`, () => {
      const value = c.bad[0]!;
      const { warnings } = read({ [c.variable]: value });
      expect(warnings[0]!.message).toContain(JSON.stringify(value));
    });
  }

  it('a malformed OTEL_RESOURCE_ATTRIBUTES holding a credential is named, not echoed', () => {
    const { warnings } = read({ OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,db.url=postgres://app:Hunter2Secret@db/x,broken' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain('OTEL_RESOURCE_ATTRIBUTES=(value hidden)');
    expect(warnings[0]!.message).not.toContain('Hunter2Secret');
  });

  it('clips a long echoed value to 60 characters', () => {
    const long = 'x'.repeat(500);
    const { warnings } = read({ OTEL_LOG_LEVEL: long });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain(`"${'x'.repeat(57)}..."`);
    expect(warnings[0]!.message).not.toContain('x'.repeat(58));
  });

  it('gives one warning per bad variable when several are bad', () => {
    const { config, warnings } = read({
      OTEL_EXPORTER_PROMETHEUS_PORT: '9464.5',
      OTEL_LOG_LEVEL: 'loud',
      OTEL_TRACES_SAMPLER_ARG: '1e3',
      TUTOR_OTEL_HEALTH_SLOW_MS: '-1',
    });
    expect(warnings.map((w) => w.variable).sort()).toEqual([
      'OTEL_EXPORTER_PROMETHEUS_PORT',
      'OTEL_LOG_LEVEL',
      'OTEL_TRACES_SAMPLER_ARG',
      'TUTOR_OTEL_HEALTH_SLOW_MS',
    ]);
    expect(config.metricsPort).toBe(9464);
    expect(config.logLevel).toBe('info');
    expect(config.traces.samplerRatio).toBe(1);
    expect(config.health.slowMs).toBe(500);
  });

  it('a bad OTEL_EXPORTER_OTLP_TRACES_PROTOCOL falls back to OTEL_EXPORTER_OTLP_PROTOCOL', () => {
    const { config, warnings } = read({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' });
    expect(config.traces.otlpProtocol).toBe('http/json');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain('using the default http/json');
  });
});

describe('readConfig good values', () => {
  it('reads numbers with surrounding whitespace and range edges', () => {
    const { config, warnings } = read({
      OTEL_EXPORTER_PROMETHEUS_PORT: ' 0 ',
      TUTOR_OTEL_HTTP_ROUTE_LIMIT: '10000',
      TUTOR_OTEL_SHUTDOWN_TIMEOUT_MS: '0',
      TUTOR_OTEL_HEALTH_TIMEOUT_MS: '10',
      TUTOR_OTEL_HEALTH_SLOW_MS: '60000',
    });
    expect(warnings).toEqual([]);
    expect(config.metricsPort).toBe(0);
    expect(config.httpRouteLimit).toBe(10000);
    expect(config.shutdownTimeoutMs).toBe(0);
    expect(config.health.timeoutMs).toBe(10);
    expect(config.health.slowMs).toBe(60000);
  });

  it.each([
    ['debug', 'debug'],
    ['VERBOSE', 'debug'],
    ['all', 'debug'],
    [' Warn ', 'warn'],
    ['none', 'none'],
    ['error', 'error'],
  ])('OTEL_LOG_LEVEL=%j -> %s', (text, level) => {
    const { config, warnings } = read({ OTEL_LOG_LEVEL: text });
    expect(warnings).toEqual([]);
    expect(config.logLevel).toBe(level);
  });

  it('reads bind hosts, including bracketed IPv6', () => {
    expect(read({ OTEL_EXPORTER_PROMETHEUS_HOST: '[::1]' }).config.metricsHost).toBe('::1');
    expect(read({ OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1' }).config.metricsHost).toBe('127.0.0.1');
  });

  it('reads TUTOR_OTEL_SEMCONV_METRICS as a boolean', () => {
    expect(read({ TUTOR_OTEL_SEMCONV_METRICS: 'yes' }).config.semconvMetrics).toBe(true);
    expect(read({ TUTOR_OTEL_SEMCONV_METRICS: 'OFF' }).config.semconvMetrics).toBe(false);
  });

  it('reads TUTOR_OTEL_HEALTH_CRITICAL; `none` empties it', () => {
    expect([...read({ TUTOR_OTEL_HEALTH_CRITICAL: 'none' }).config.health.critical]).toEqual([]);
    expect([...read({ TUTOR_OTEL_HEALTH_CRITICAL: 'Database' }).config.health.critical]).toEqual(['database']);
    expect([...read({ TUTOR_OTEL_HEALTH_CRITICAL: 'redis , database' }).config.health.critical].sort()).toEqual(['database', 'redis']);
  });

  it('accepts postgres and redis health URLs without warning', () => {
    const { config, warnings } = read({
      TUTOR_OTEL_HEALTH_DATABASE_URL: 'postgresql://app:pw@db:5432/app',
      TUTOR_OTEL_HEALTH_REDIS_URL: 'rediss://:pw@cache:6380/1',
    });
    expect(warnings).toEqual([]);
    expect(config.health.targets.find((t) => t.kind === 'database')?.url).toBe('postgresql://app:pw@db:5432/app');
    expect(config.health.targets.find((t) => t.kind === 'redis')?.url).toBe('rediss://:pw@cache:6380/1');
    expect(read({ TUTOR_OTEL_HEALTH_DATABASE_URL: 'postgres://db/app' }).config.health.targets.find((t) => t.kind === 'database')?.url).toBe(
      'postgres://db/app',
    );
  });

  it('carries the credential settings as given, blank distinct from unset, never warning (credentials.ts validates them)', () => {
    const { config, warnings } = read({ TUTOR_OTEL_AUTH_TOKEN: '  s3cret \n', TUTOR_OTEL_AUTH_TOKEN_FILE: ' /run/secrets/token ' });
    expect(warnings).toEqual([]);
    expect(config.auth.bearer).toEqual({ value: '  s3cret \n', file: ' /run/secrets/token ' });
    expect(read({}).config.auth).toEqual({ bearer: { value: undefined, file: undefined }, basic: { value: undefined, file: undefined } });
    expect(read({ TUTOR_OTEL_AUTH_TOKEN: '   ' }).config.auth.bearer.value).toBe('   ');
  });

  it('does not judge basic-auth credentials itself, so a malformed one is neither dropped nor echoed here', () => {
    expect(read({ TUTOR_OTEL_AUTH_BASIC: ' prom:pa:ss ' }).config.auth.basic.value).toBe(' prom:pa:ss ');
    const { config, warnings } = read({ TUTOR_OTEL_AUTH_BASIC: 'no-colon-secret', TUTOR_OTEL_AUTH_BASIC_FILE: '' });
    expect(config.auth.basic).toEqual({ value: 'no-colon-secret', file: '' });
    expect(warnings).toEqual([]);
  });
});

describe('service name and version', () => {
  const app = { name: 'tutor-api', version: '3.2.1' };

  it('OTEL_SERVICE_NAME wins over OTEL_RESOURCE_ATTRIBUTES and the app package', () => {
    const { config } = read({ OTEL_SERVICE_NAME: 'from-env', OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs' }, app);
    expect(config.serviceName).toBe('from-env');
  });

  it('OTEL_SERVICE_NAME is trimmed', () => {
    expect(read({ OTEL_SERVICE_NAME: '  spaced  ' }, app).config.serviceName).toBe('spaced');
  });

  it('service.name from OTEL_RESOURCE_ATTRIBUTES wins over the app package', () => {
    const { config } = read({ OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,service.name=from-attrs' }, app);
    expect(config.serviceName).toBe('from-attrs');
    expect(config.resourceAttributes).toEqual({ 'deployment.environment': 'prod', 'service.name': 'from-attrs' });
  });

  it('a blank OTEL_SERVICE_NAME falls through to the resource attributes', () => {
    expect(read({ OTEL_SERVICE_NAME: '  ', OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs' }, app).config.serviceName).toBe('from-attrs');
  });

  it('the app package name is used when nothing else names the service', () => {
    expect(read({}, app).config.serviceName).toBe('tutor-api');
    expect(read({ OTEL_RESOURCE_ATTRIBUTES: 'team=learning' }, app).config.serviceName).toBe('tutor-api');
  });

  it('a malformed OTEL_RESOURCE_ATTRIBUTES is not half-applied: the app name is used', () => {
    const { config, warnings } = read({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,broken' }, app);
    expect(config.serviceName).toBe('tutor-api');
    expect(config.resourceAttributes).toEqual({});
    expect(warnings).toHaveLength(1);
  });

  it('percent-decodes resource attribute values', () => {
    expect(read({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=my%20svc' }).config.serviceName).toBe('my svc');
  });

  it('service.version from OTEL_RESOURCE_ATTRIBUTES wins over the package version', () => {
    expect(read({ OTEL_RESOURCE_ATTRIBUTES: 'service.version=9.9.9' }, app).config.serviceVersion).toBe('9.9.9');
    expect(read({}, app).config.serviceVersion).toBe('3.2.1');
    expect(read({}, { name: 'x' }).config.serviceVersion).toBe('0.0.0');
  });
});

describe('traces', () => {
  it('OTEL_EXPORTER_OTLP_ENDPOINT turns OTLP on and gets /v1/traces appended', () => {
    const { traces } = read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).config;
    expect(traces.exporters).toEqual(['otlp']);
    expect(traces.otlpEndpoint).toBe('http://collector:4318/v1/traces');
  });

  it('appends /v1/traces once, after a trailing slash or a base path', () => {
    expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).config.traces.otlpEndpoint).toBe('http://collector:4318/v1/traces');
    expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example.com/otlp' }).config.traces.otlpEndpoint).toBe(
      'https://otel.example.com/otlp/v1/traces',
    );
    expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example.com/otlp/' }).config.traces.otlpEndpoint).toBe(
      'https://otel.example.com/otlp/v1/traces',
    );
  });

  it('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as it is and wins over the base endpoint', () => {
    const { traces } = read({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://base:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:4318/custom/path',
    }).config;
    expect(traces.exporters).toEqual(['otlp']);
    expect(traces.otlpEndpoint).toBe('http://traces:4318/custom/path');
  });

  it('OTEL_TRACES_EXPORTER=otlp alone turns traces on towards the default endpoint', () => {
    const { traces } = read({ OTEL_TRACES_EXPORTER: 'otlp' }).config;
    expect(traces.exporters).toEqual(['otlp']);
    expect(traces.otlpEndpoint).toBe('http://localhost:4318/v1/traces');
  });

  it('OTEL_TRACES_EXPORTER=none turns traces off even with an endpoint', () => {
    expect(read({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).config.traces.exporters).toEqual([]);
    expect(read({ OTEL_TRACES_EXPORTER: 'otlp,none' }).config.traces.exporters).toEqual([]);
    expect(read({ OTEL_TRACES_EXPORTER: 'NONE' }).config.traces.exporters).toEqual([]);
  });

  it('OTEL_TRACES_EXPORTER accepts console and is case-insensitive', () => {
    expect(read({ OTEL_TRACES_EXPORTER: 'console' }).config.traces.exporters).toEqual(['console']);
    expect(read({ OTEL_TRACES_EXPORTER: ' OTLP , Console ' }).config.traces.exporters).toEqual(['otlp', 'console']);
  });

  it('a bad endpoint does not turn traces on', () => {
    const { traces } = read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }).config;
    expect(traces.exporters).toEqual([]);
  });

  it('merges headers, the traces-specific ones winning, values percent-decoded', () => {
    const { traces } = read({
      OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20base,x-team=tutor',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'Authorization=Bearer%20traces',
    }).config;
    expect(traces.otlpHeaders).toEqual({ Authorization: 'Bearer traces', 'x-team': 'tutor' });
  });

  it('reads the protocol, the traces-specific one winning', () => {
    expect(read({ OTEL_EXPORTER_OTLP_PROTOCOL: 'HTTP/JSON' }).config.traces.otlpProtocol).toBe('http/json');
    expect(read({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' }).config.traces.otlpProtocol).toBe(
      'http/protobuf',
    );
  });

  it('OTEL_TRACES_SAMPLER_ARG alone selects parentbased_traceidratio', () => {
    const { traces } = read({ OTEL_TRACES_SAMPLER_ARG: '0.25' }).config;
    expect(traces.sampler).toBe('parentbased_traceidratio');
    expect(traces.samplerRatio).toBe(0.25);
    expect(read({ OTEL_TRACES_SAMPLER_ARG: '0' }).config.traces.sampler).toBe('parentbased_traceidratio');
  });

  it('an explicit OTEL_TRACES_SAMPLER is kept beside the argument', () => {
    const { traces } = read({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }).config;
    expect(traces.sampler).toBe('traceidratio');
    expect(traces.samplerRatio).toBe(0.1);
    expect(read({ OTEL_TRACES_SAMPLER: 'always_on', OTEL_TRACES_SAMPLER_ARG: '0.1' }).config.traces.sampler).toBe('always_on');
  });

  it('a bad OTEL_TRACES_SAMPLER_ARG does not change the sampler', () => {
    const { config, warnings } = read({ OTEL_TRACES_SAMPLER_ARG: '1.5' });
    expect(config.traces.sampler).toBe('parentbased_always_on');
    expect(warnings).toHaveLength(1);
  });

  it.each(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'])(
    'OTEL_TRACES_SAMPLER=%s is accepted in any case',
    (name) => {
      const { config, warnings } = read({ OTEL_TRACES_SAMPLER: ` ${name.toUpperCase()} ` });
      expect(warnings).toEqual([]);
      expect(config.traces.sampler).toBe(name);
    },
  );
});

describe('instrumentation lists', () => {
  const names = (env: Env) => [...read(env).config.instrumentations].sort();

  it('OTEL_NODE_ENABLED_INSTRUMENTATIONS keeps only those named, with aliases', () => {
    expect(names({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,fetch' })).toEqual(['http', 'undici']);
    expect(names({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'pg-pool, Redis' })).toEqual(['pg', 'redis']);
    expect(names({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'ioredis' })).toEqual(['ioredis']);
    expect(names({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: '@opentelemetry/instrumentation-express' })).toEqual(['express']);
  });

  it('OTEL_NODE_DISABLED_INSTRUMENTATIONS removes names, with aliases', () => {
    expect(names({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pg-pool' })).toEqual(without('pg'));
    expect(names({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'fetch,https' })).toEqual(without('undici', 'http'));
  });

  it('disabled is subtracted from enabled', () => {
    expect(names({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,pg,ioredis', OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pg-pool' })).toEqual(['http', 'ioredis']);
  });

  it('an unknown enabled name is warned about under the enabled variable and ignored', () => {
    const { config, warnings } = read({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,mysql2' });
    expect([...config.instrumentations]).toEqual(['http']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.variable).toBe('OTEL_NODE_ENABLED_INSTRUMENTATIONS');
    expect(warnings[0]!.message).toContain('"mysql2"');
    expect(warnings[0]!.message).toContain('OTEL_NODE_ENABLED_INSTRUMENTATIONS');
  });

  it('an unknown disabled name is warned about under the disabled variable', () => {
    const { config, warnings } = read({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'grpc' });
    expect(config.instrumentations.size).toBe(ALL_INSTRUMENTATIONS.length);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.variable).toBe('OTEL_NODE_DISABLED_INSTRUMENTATIONS');
    expect(warnings[0]!.message).toContain('"grpc"');
  });

  it('clips a very long unknown name in the warning', () => {
    const long = 'z'.repeat(300);
    const { warnings } = read({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: long });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).not.toContain('z'.repeat(58));
  });
});
