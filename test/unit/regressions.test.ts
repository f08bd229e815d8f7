/** Regressions for bugs found by reading the pure modules' edge cases. */
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../src/config/env';
import { canonicalInstrumentationName } from '../../src/config/instrumentation-names';
import { failureMessage } from '../../src/health/checks';
import { REDIS_HEALTH, redisEndpointFromUrl } from '../../src/health/redis-probe';
import { foldPath } from '../../src/http/route-label';
import { flushWithin } from '../../src/lifecycle/shutdown';

describe('regressions', () => {
  it('strips the brackets of an IPv6 Redis host', () => {
    expect(redisEndpointFromUrl('redis://[::1]:6380').host).toBe('::1');
  });

  it('reports a malformed escape in a health URL as a bad value instead of failing later', () => {
    const { config, warnings } = readConfig({ TUTOR_OTEL_HEALTH_REDIS_URL: 'redis://:p%ZZ@localhost:6379' });
    expect(config.health.targets.find((t) => t.kind === 'redis')?.url).toBeUndefined();
    expect(warnings.map((w) => w.variable)).toEqual(['TUTOR_OTEL_HEALTH_REDIS_URL']);
    expect(() => redisEndpointFromUrl('redis://:p%ZZ@localhost:6379')).not.toThrow();
  });

  it('never takes inherited object keys for values', () => {
    const { config, warnings } = readConfig({
      OTEL_LOG_LEVEL: 'constructor',
      OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,constructor',
      OTEL_NODE_DISABLED_INSTRUMENTATIONS: '__proto__',
    });
    expect(config.logLevel).toBe('info');
    expect([...config.instrumentations]).toEqual(['http']);
    expect(warnings).toHaveLength(3);
    expect(canonicalInstrumentationName('toString')).toBeUndefined();
    expect(failureMessage(REDIS_HEALTH, { code: 'constructor' }, 1)).not.toContain('function');
  });

  it('names the right variable once per unknown instrumentation', () => {
    const { warnings } = readConfig({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,mysql2', OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'mysql,mysql' });
    expect(warnings.map((w) => w.variable)).toEqual(['OTEL_NODE_ENABLED_INSTRUMENTATIONS', 'OTEL_NODE_DISABLED_INSTRUMENTATIONS']);
  });

  it('does not export twice when an exporter is listed twice', () => {
    expect(readConfig({ OTEL_TRACES_EXPORTER: 'otlp,otlp' }).config.traces.exporters).toEqual(['otlp']);
  });

  it('treats a blank sampler as unset, so the ratio alone still applies', () => {
    const { config } = readConfig({ OTEL_TRACES_SAMPLER: '', OTEL_TRACES_SAMPLER_ARG: '0.1' });
    expect(config.traces.sampler).toBe('parentbased_traceidratio');
    expect(config.traces.samplerRatio).toBe(0.1);
  });

  it('ignores a blank service.name', () => {
    expect(readConfig({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=' }, { name: 'pkg-name' }).config.serviceName).toBe('pkg-name');
  });

  it('folds escaped e-mail addresses and counts segments, not slashes', () => {
    expect(foldPath('/users/jane.doe%40example.com')).toBe('/users/:id');
    expect(foldPath('/a/b/c/d/e/f/g/h/')).toBe('/a/b/c/d/e/f/g/h/');
  });

  it('resolves when a flusher throws synchronously', async () => {
    await expect(
      flushWithin(
        [
          () => {
            throw new Error('x');
          },
        ],
        100,
      ),
    ).resolves.toBe(true);
  });

  it('keeps the query of an OTLP base endpoint after the path', () => {
    expect(readConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/?tenant=a' }).config.traces.otlpEndpoint).toBe('http://c:4318/v1/traces?tenant=a');
  });
});
