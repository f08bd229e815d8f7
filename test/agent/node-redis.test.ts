/**
 * node-redis (the `redis` package) under the agent, majors 4, 5 and 6 (npm aliases `redis-v4`,
 * `redis-v5`, and `redis`), ESM and CommonJS, against the real Redis: exact cache_operations_total
 * per command and outcome (the same classification as ioredis, MULTI and pipelines included, the
 * client's own handshake not counted), /health finding the server the app connected to before any
 * command, /ready failing when that Redis is down, and command spans of the ioredis shape.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { OtlpSink } from '../helpers/otlp-sink';
import { waitFor } from '../helpers/ports';
import { select, total } from '../helpers/prometheus-text';
import { TcpProxy } from '../helpers/tcp-proxy';

const MAJORS = [
  { pkg: 'redis-v4', major: 4 },
  { pkg: 'redis-v5', major: 5 },
  { pkg: 'redis', major: 6 },
] as const;

/** One run of test/fixtures/node-redis-sequence.cjs, as cache_operations_total counts it. */
const ONE_RUN: Array<[string, string, number]> = [
  ['GET', 'miss', 2],
  ['GET', 'hit', 3],
  ['GET', 'ok', 1],
  ['GET', 'error', 1],
  ['SET', 'ok', 1],
  ['MGET', 'hit', 1],
  ['MGET', 'miss', 2],
  ['HGETALL', 'miss', 1],
  ['EXISTS', 'hit', 1],
  ['EXISTS', 'miss', 1],
  ['MULTI', 'ok', 1],
  ['INCR', 'ok', 1],
  ['EXEC', 'ok', 1],
  ['LPUSH', 'ok', 1],
  ['DEL', 'ok', 1],
];

for (const { pkg, major } of MAJORS) {
  for (const fixture of ['node-redis-app.mjs', 'node-redis-app.cjs']) {
    describe(`node-redis ${major} (${pkg}), ${fixture.endsWith('.mjs') ? 'ESM' : 'CommonJS'}`, () => {
      let app: AgentApp;
      beforeAll(async () => {
        app = await startAgentApp({ fixture, env: { REDIS_PACKAGE: pkg } });
        await agentReady(app);
      });
      afterAll(async () => {
        await app?.stop();
      });

      it('/health probes the Redis the app connected to, before any command', async () => {
        const health = await app.endpoint('/health');
        expect(health.status).toBe(200);
        expect(health.body.checks.redis).toMatchObject({ status: 'pass', message: 'Redis answered PING' });
        // No command yet: the handshake (HELLO/AUTH, CLIENT SETINFO) is node-redis's own.
        expect(select(await app.scrape(), 'cache_operations_total')).toEqual([]);
      });

      it('counts every command by outcome, exactly, twice over', async () => {
        for (let run = 1; run <= 2; run++) {
          const response = await app.request('/cache');
          expect(response.status).toBe(200);
          expect(await response.json()).toEqual({ wrongType: expect.stringMatching(/Error/) });
          const samples = await app.scrape();
          for (const [operation, result, count] of ONE_RUN) {
            expect(total(samples, 'cache_operations_total', { operation, result }), `${operation} ${result}`).toBe(count * run);
          }
          const series = select(samples, 'cache_operations_total');
          expect(series, JSON.stringify(series.map((s) => s.labels))).toHaveLength(ONE_RUN.length);
        }
      });
    });
  }
}

describe('node-redis spans', () => {
  const sink = new OtlpSink();
  let app: AgentApp | undefined;
  afterEach(async () => {
    await app?.stop();
    await sink.stop();
  });

  it('one CLIENT span per command under the request, named and attributed as for ioredis, no keys', async () => {
    const endpoint = await sink.start();
    app = await startAgentApp({
      fixture: 'node-redis-app.mjs',
      env: { REDIS_PACKAGE: 'redis', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
    });
    await agentReady(app);
    expect((await app.request('/cache')).status).toBe(200);
    app.child.kill('SIGTERM'); // the agent flushes every ended span, then the process exits
    await app.exit;
    const spans = sink.spans();
    const server = spans.find((s) => s.kind === 2 && s.attributes['url.path'] === '/cache');
    expect(server).toBeDefined();
    const redis = spans.filter((s) => s.attributes['db.system.name'] === 'redis');
    // 16 commands: one span per command, whatever its cache outcome (MGET of 3 keys is one span).
    expect(redis.map((s) => s.name).sort()).toEqual(
      ['GET', 'SET', 'GET', 'MGET', 'HGETALL', 'EXISTS', 'MULTI', 'INCR', 'GET', 'EXEC', 'GET', 'GET', 'GET', 'LPUSH', 'GET', 'DEL'].sort(),
    );
    for (const span of redis) {
      expect(span.kind).toBe(3);
      expect(span.traceId).toBe(server!.traceId);
      expect(span.parentSpanId).toBe(server!.spanId);
      expect(span.attributes).toMatchObject({ 'db.operation.name': span.name, 'server.address': '127.0.0.1', 'server.port': 6379 });
      expect(JSON.stringify(span.attributes)).not.toContain('node-redis-fixture');
    }
  });
});

describe('node-redis with its Redis down', () => {
  let app: AgentApp | undefined;
  const proxy = new TcpProxy('127.0.0.1', 6379);
  afterEach(async () => {
    await app?.stop();
    await proxy.stop();
  });

  it('/health fails the check and /ready is 503 before any command; commands that fail count as errors', async () => {
    const port = await proxy.start();
    app = await startAgentApp({
      fixture: 'node-redis-app.cjs',
      env: { REDIS_PACKAGE: 'redis', REDIS_URL: `redis://127.0.0.1:${port}`, TUTOR_OTEL_HEALTH_TIMEOUT_MS: '500' },
    });
    await agentReady(app);
    expect((await app.endpoint('/ready')).status).toBe(200);
    await proxy.stop();
    const down = await waitFor(
      async () => {
        const h = await app!.endpoint('/health');
        return h.status === 503 ? h : undefined;
      },
      15_000,
      'Redis to be reported down',
    );
    expect(down.body.checks.redis).toMatchObject({ status: 'fail', message: 'Redis check failed: connection refused (ECONNREFUSED)' });
    expect((await app.endpoint('/ready')).status).toBe(503);
    expect((await app.request('/ok')).status).toBe(200);
    expect((await app.request('/cache')).status).toBe(500);
    const samples = await app.scrape();
    expect(total(samples, 'cache_operations_total', { operation: 'GET', result: 'error' })).toBeGreaterThanOrEqual(1);
    expect(select(samples, 'cache_operations_total').filter((s) => s.labels.result !== 'error')).toEqual([]);
    expect(app.exited).toBeUndefined();
  });
});
