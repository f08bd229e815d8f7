/**
 * The standard OpenTelemetry variables the agent implements, read the way the specification
 * says, and the ones it does not implement, named once each.
 */
import { describe, expect, it } from 'vitest';
import { readConfig, type Env } from '../../src/config/env';
import { containerIdFrom } from '../../src/config/container-id';
import { LineBudget } from '../../src/logging/diag';
import { newerSameMajor } from '../../src/otel-api/version';

const read = (env: Env) => readConfig(env, {});

describe('OTEL_PROPAGATORS', () => {
  it('defaults to W3C trace context and baggage', () => {
    expect(read({}).config.propagators).toEqual(['tracecontext', 'baggage']);
  });

  it('reads b3 and b3multi in order, once each, in any case', () => {
    const { config, warnings } = read({ OTEL_PROPAGATORS: 'B3, tracecontext,b3multi,b3' });
    expect(config.propagators).toEqual(['b3', 'tracecontext', 'b3multi']);
    expect(warnings).toEqual([]);
  });

  it('none empties it', () => {
    expect(read({ OTEL_PROPAGATORS: 'none' }).config.propagators).toEqual([]);
  });

  it('a propagator it does not implement is one warning naming it; the others are kept', () => {
    const { config, warnings } = read({ OTEL_PROPAGATORS: 'tracecontext,xray,xray' });
    expect(config.propagators).toEqual(['tracecontext']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/OTEL_PROPAGATORS names "xray", which this agent does not implement/);
  });
});

describe('OTEL_BSP_*', () => {
  it('defaults to the specification, except a 5 s export timeout', () => {
    expect(read({}).config.traces.batch).toEqual({ scheduleDelayMs: 5000, exportTimeoutMs: 5000, maxQueueSize: 2048, maxExportBatchSize: 512 });
  });

  it('reads each, capping the batch at the queue size', () => {
    const { config, warnings } = read({
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_BSP_EXPORT_TIMEOUT: '2500',
      OTEL_BSP_MAX_QUEUE_SIZE: '64',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '128',
    });
    expect(warnings).toEqual([]);
    expect(config.traces.batch).toEqual({ scheduleDelayMs: 100, exportTimeoutMs: 2500, maxQueueSize: 64, maxExportBatchSize: 64 });
  });

  it('a bad value is one warning and the default', () => {
    const { config, warnings } = read({ OTEL_BSP_MAX_QUEUE_SIZE: 'lots' });
    expect(config.traces.batch.maxQueueSize).toBe(2048);
    expect(warnings.map((w) => w.variable)).toEqual(['OTEL_BSP_MAX_QUEUE_SIZE']);
  });
});

describe('OTLP exporter timeout and compression', () => {
  it('defaults to 5 s and no compression', () => {
    expect(read({}).config.traces).toMatchObject({ otlpTimeoutMs: 5000, otlpCompression: 'none' });
  });

  it('the traces-specific variable wins over the general one', () => {
    const { config } = read({ OTEL_EXPORTER_OTLP_TIMEOUT: '7000', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '1200', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' });
    expect(config.traces).toMatchObject({ otlpTimeoutMs: 1200, otlpCompression: 'gzip' });
    expect(config.metrics).toMatchObject({ otlpTimeoutMs: 7000, otlpCompression: 'gzip' });
  });

  it('a bad general value read for traces and for metrics is still one warning', () => {
    const { warnings } = read({ OTEL_EXPORTER_OTLP_TIMEOUT: 'soon', OTEL_EXPORTER_OTLP_ENDPOINT: 'nope' });
    expect(warnings.map((w) => w.variable).sort()).toEqual(['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TIMEOUT']);
  });
});

describe('span limits', () => {
  it('default to the SDK: 128 attributes, unlimited length', () => {
    expect(read({}).config.traces.limits).toMatchObject({ attributeCountLimit: 128, attributeValueLengthLimit: Infinity });
  });

  it('the general OTEL_ATTRIBUTE_* limits apply to spans; the OTEL_SPAN_* ones win', () => {
    expect(read({ OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '64', OTEL_ATTRIBUTE_COUNT_LIMIT: '10' }).config.traces.limits).toMatchObject({
      attributeValueLengthLimit: 64,
      attributeCountLimit: 10,
    });
    expect(
      read({
        OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '64',
        OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: '16',
        OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '5',
        OTEL_SPAN_EVENT_COUNT_LIMIT: '3',
      }).config.traces.limits,
    ).toMatchObject({ attributeValueLengthLimit: 16, attributeCountLimit: 5, eventCountLimit: 3 });
  });
});

describe('OTEL_SDK_DISABLED', () => {
  it.each(['true', 'TRUE', 'false', 'False'])('%s is accepted silently', (value) => {
    expect(read({ OTEL_SDK_DISABLED: value }).warnings).toEqual([]);
  });

  it.each(['1', 'yes', 'on'])('%s is not `true`: one warning (the agent runs)', (value) => {
    const { warnings } = read({ OTEL_SDK_DISABLED: value });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain(`OTEL_SDK_DISABLED="${value}" is not true or false (only true turns the agent off)`);
  });
});

describe('OTEL_NODE_RESOURCE_DETECTORS', () => {
  it('defaults to all of them', () => {
    expect(read({}).config.resourceDetectors).toEqual(['env', 'host', 'os', 'process', 'container', 'serviceinstance']);
  });

  it('reads a list; all and none', () => {
    expect(read({ OTEL_NODE_RESOURCE_DETECTORS: 'serviceinstance,env' }).config.resourceDetectors).toEqual(['serviceinstance', 'env']);
    expect(read({ OTEL_NODE_RESOURCE_DETECTORS: 'all' }).config.resourceDetectors).toHaveLength(6);
    expect(read({ OTEL_NODE_RESOURCE_DETECTORS: 'none' }).config.resourceDetectors).toEqual([]);
  });

  it('an unknown detector is one warning', () => {
    const { config, warnings } = read({ OTEL_NODE_RESOURCE_DETECTORS: 'env,gcp' });
    expect(config.resourceDetectors).toEqual(['env']);
    expect(warnings[0]!.message).toMatch(/"gcp"/);
  });
});

describe('standard variables the agent does not implement', () => {
  it('each set one is one warning naming it', () => {
    const { warnings } = read({
      OTEL_LOGS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_CERTIFICATE: '/etc/ca.pem',
      OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'http://zipkin:9411',
      OTEL_BLRP_SCHEDULE_DELAY: '100',
    });
    expect(warnings.map((w) => w.variable)).toEqual([
      'OTEL_BLRP_SCHEDULE_DELAY',
      'OTEL_EXPORTER_OTLP_CERTIFICATE',
      'OTEL_EXPORTER_ZIPKIN_ENDPOINT',
      'OTEL_LOGS_EXPORTER',
    ]);
    expect(warnings.find((w) => w.variable === 'OTEL_LOGS_EXPORTER')!.message).toBe(
      'OTEL_LOGS_EXPORTER is set, but this agent does not implement it (the agent exports no logs); it has no effect',
    );
  });

  it('OTEL_LOGS_EXPORTER=none asks for nothing and gets no warning', () => {
    expect(read({ OTEL_LOGS_EXPORTER: 'none' }).warnings).toEqual([]);
  });

  it('never echoes a value', () => {
    const { warnings } = read({ OTEL_EXPORTER_OTLP_CLIENT_KEY: 'secret-key-material' });
    expect(JSON.stringify(warnings)).not.toContain('secret-key-material');
  });
});

describe('containerIdFrom', () => {
  const id = 'a'.repeat(12) + '0123456789abcdef'.repeat(3) + 'b'.repeat(4);

  it('reads cgroup v1 paths (docker, systemd scope)', () => {
    expect(containerIdFrom(`12:pids:/docker/${id}\n`, undefined)).toBe(id);
    expect(containerIdFrom(`0::/system.slice/docker-${id}.scope\n`, undefined)).toBe(id);
  });

  it('reads cgroup v2 mountinfo', () => {
    const mountinfo = `712 701 0:24 /var/lib/docker/containers/${id}/hostname /etc/hostname rw,relatime - ext4 /dev/sda1 rw\n`;
    expect(containerIdFrom('0::/\n', mountinfo)).toBe(id);
  });

  it('is undefined outside a container', () => {
    expect(containerIdFrom('0::/\n4:memory:/process_api/af84be4a534a75a8ff3c0532fb661539\n', '22 1 0:21 / /proc rw - proc proc rw\n')).toBeUndefined();
  });
});

describe('LineBudget (OpenTelemetry diagnostics at debug)', () => {
  it('allows so many lines per window, then counts the rest and reports them when the window turns', () => {
    const budget = new LineBudget(2, 1000);
    expect(budget.take(0)).toEqual({ allowed: true, dropped: 0 });
    expect(budget.take(10)).toEqual({ allowed: true, dropped: 0 });
    expect(budget.take(20)).toEqual({ allowed: false, dropped: 0 });
    expect(budget.take(30)).toEqual({ allowed: false, dropped: 0 });
    expect(budget.take(1000)).toEqual({ allowed: true, dropped: 2 });
  });
});

describe('OTEL_METRICS_EXPORTER and the metrics push settings', () => {
  it('defaults to prometheus only, every 60 s, to localhost:4318/v1/metrics', () => {
    expect(read({}).config.metrics).toMatchObject({
      exporters: ['prometheus'],
      exportIntervalMs: 60000,
      exportTimeoutMs: 30000,
      otlpEndpoint: 'http://localhost:4318/v1/metrics',
      prometheusTargetInfo: false,
    });
  });

  it('reads a list; none empties it; an unknown exporter is one warning and the default', () => {
    expect(read({ OTEL_METRICS_EXPORTER: 'OTLP, prometheus' }).config.metrics.exporters).toEqual(['otlp', 'prometheus']);
    expect(read({ OTEL_METRICS_EXPORTER: 'none' }).config.metrics.exporters).toEqual([]);
    const { config, warnings } = read({ OTEL_METRICS_EXPORTER: 'console' });
    expect(config.metrics.exporters).toEqual(['prometheus']);
    expect(warnings.map((w) => w.variable)).toEqual(['OTEL_METRICS_EXPORTER']);
  });

  it('an OTLP endpoint alone does not push metrics (the agent serves /metrics by default)', () => {
    expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).config.metrics).toMatchObject({
      exporters: ['prometheus'],
      otlpEndpoint: 'http://collector:4318/v1/metrics',
    });
  });

  it('the metrics-specific endpoint, protocol and headers win over the general ones', () => {
    const { config } = read({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://metrics:4318/custom',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_HEADERS: 'a=1,b=2',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'b=3',
    });
    expect(config.metrics).toMatchObject({ otlpEndpoint: 'http://metrics:4318/custom', otlpProtocol: 'http/json', otlpHeaders: { a: '1', b: '3' } });
    expect(config.traces.otlpProtocol).toBe('http/protobuf');
  });

  it('the push timeout never exceeds the interval', () => {
    expect(read({ OTEL_METRIC_EXPORT_INTERVAL: '1000' }).config.metrics).toMatchObject({ exportIntervalMs: 1000, exportTimeoutMs: 1000 });
  });
});

describe('newerSameMajor (which @opentelemetry/api the agent shares)', () => {
  it.each([
    ['1.10.0', '1.10.0', false],
    ['1.10.1', '1.10.0', true],
    ['1.11.0', '1.10.0', true],
    ['1.9.1', '1.10.0', false],
    ['1.9.9', '1.10.0', false],
    ['1.3.0', '1.10.0', false],
    ['2.0.0', '1.10.0', false],
    ['1.10.0-rc.1', '1.10.0', false],
    ['1.11.0-rc.1', '1.10.0', true],
    ['garbage', '1.10.0', false],
  ])('%s against %s: %s', (version, than, expected) => {
    expect(newerSameMajor(version, than)).toBe(expected);
  });
});
