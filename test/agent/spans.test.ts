/**
 * The agent's own spans (incoming HTTP, pg, ioredis) for an ESM app with node:http, a pg Pool of one
 * connection and ioredis, exported over OTLP http/json to a local receiver: parentage under the
 * caller's traceparent, concurrency on a shared connection, callbacks, errors, sampling, outgoing
 * propagation, aborted requests, and what must make no span at all.
 *
 * Each request of interest carries its own traceparent, so its spans are found by trace id. All
 * traffic runs first; then SIGTERM makes the agent flush everything before the process exits, so
 * both "this span exists" and "no such span" are decided on the complete export.
 */
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { OtlpSink, type OtlpSpan } from '../helpers/otlp-sink';
import { parsePrometheusText, total } from '../helpers/prometheus-text';
import { waitFor } from '../helpers/ports';

const SERVER = 2;
const CLIENT = 3;
const STATUS_ERROR = 2;

interface Caller {
  traceId: string;
  spanId: string;
  header: string;
}

/** A W3C caller context: `00-<trace>-<span>-<flags>`. */
function caller(flags: '01' | '00' = '01'): Caller {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, header: `00-${traceId}-${spanId}-${flags}` };
}

/** Span status is not in OtlpSink.spans(): read it from the raw http/json posts. */
function statusOf(sink: OtlpSink, spanId: string): { code?: number; message?: string } | undefined {
  for (const post of sink.posts) {
    const body = JSON.parse(post.body.toString('utf8'));
    for (const rs of body.resourceSpans ?? [])
      for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) if (s.spanId === spanId) return s.status ?? {};
  }
  return undefined;
}

const isPg = (s: OtlpSpan) => s.attributes['db.system.name'] === 'postgresql';
const isRedis = (s: OtlpSpan) => s.attributes['db.system.name'] === 'redis';
const describeSpans = (spans: OtlpSpan[]) =>
  JSON.stringify(spans.map((s) => [s.kind, s.name, s.traceId.slice(0, 8), s.attributes['url.path'] ?? s.attributes['db.operation.name']]));

/** A loopback server standing in for another service: remembers the traceparent of each request. */
async function startDownstream(): Promise<{ url: string; seen: Array<{ path: string; traceparent?: string }>; close(): Promise<void> }> {
  const seen: Array<{ path: string; traceparent?: string }> = [];
  const server = http.createServer((req, res) => {
    seen.push({ path: req.url ?? '', traceparent: req.headers.traceparent as string | undefined });
    res.end('downstream ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function get(app: AgentApp, path: string, traceparent?: string): Promise<{ status: number; body: any }> {
  const response = await app.request(path, { headers: traceparent ? { traceparent } : {} });
  const text = await response.text();
  return { status: response.status, body: text.startsWith('{') ? JSON.parse(text) : text };
}

/** The fixture under the agent, exporting OTLP/JSON to the sink, ready to serve. */
async function startSpansApp(sink: OtlpSink, downstreamUrl: string, env: Record<string, string>): Promise<AgentApp> {
  const endpoint = await sink.start();
  const app = await startAgentApp({
    fixture: 'spans-app.mjs',
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', DOWNSTREAM_URL: downstreamUrl, ...env },
  });
  await agentReady(app);
  return app;
}

async function stopAll(app: AgentApp | undefined, sink: OtlpSink, downstream: { close(): Promise<void> } | undefined): Promise<void> {
  await app?.stop();
  await cleanRedis(app?.child.pid);
  await sink.stop();
  await downstream?.close();
}

/** Deletes what the fixture left in Redis (its requests delete their own keys; the timer's key expires). */
async function cleanRedis(pid: number | undefined): Promise<void> {
  if (pid === undefined) return;
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    const keys = await redis.keys(`spans-fixture:${pid}:*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

describe('spans of an ESM app (node:http + pg Pool max 1 + ioredis)', () => {
  const sink = new OtlpSink();
  let downstream: Awaited<ReturnType<typeof startDownstream>>;
  let app: AgentApp;

  const sampled = caller();
  const root = { path: '/db/root' };
  const concurrent = Array.from({ length: 10 }, (_, i) => ({ ...caller(), path: i % 2 === 0 ? '/db/concurrent' : '/callback/concurrent' }));
  const callbackAlone = caller();
  const failing = caller();
  const outgoing = caller();
  const aborted = caller();
  const posted = caller();
  const unsampled = ['/db/unsampled', '/callback/unsampled', '/outgoing'].map((path) => ({ ...caller('00'), path }));

  const answers = new Map<string, { status: number; body: any }>();
  let backgroundTicksBeforeStop = 0;

  beforeAll(async () => {
    downstream = await startDownstream();
    app = await startSpansApp(sink, downstream.url, { OTEL_SERVICE_NAME: 'spans-fixture' });

    answers.set('sampled', await get(app, '/db?token=secret-value', sampled.header));
    answers.set('root', await get(app, root.path));
    // All ten meet in the fixture before any touches the pool, so nine wait for its one connection.
    const results = await Promise.all(concurrent.map((c) => get(app, `${c.path}?group=mix&of=${concurrent.length}`, c.header)));
    results.forEach((r, i) => answers.set(`concurrent-${i}`, r));
    answers.set('callback', await get(app, '/callback', callbackAlone.header));
    answers.set('fail', await get(app, '/fail', failing.header));
    answers.set('outgoing', await get(app, '/outgoing', outgoing.header));
    for (const u of unsampled) answers.set(`unsampled ${u.path}`, await get(app, u.path, u.header));
    const post = await fetch(`http://127.0.0.1:${app.appPort}/body`, { method: 'POST', body: 'hello body', headers: { traceparent: posted.header } });
    answers.set('body', { status: post.status, body: await post.json() });

    // A client that gives up: the handler has started (it says so), then the socket is destroyed.
    const request = http.request({ host: '127.0.0.1', port: app.appPort, path: '/slow', headers: { traceparent: aborted.header }, agent: false });
    request.on('error', () => {});
    request.end();
    await waitFor(() => (app.stdout.includes('{"slow":true}') ? true : undefined), 20_000, 'the /slow handler to start');
    request.destroy();
    await waitFor(() => (app.stdout.includes('{"slowClosed":true}') ? true : undefined), 20_000, 'the server to see the client go');

    // The agent's own endpoints, and time for the app's background timer to run a few times.
    expect((await app.endpoint('/health')).status).toBe(200);
    expect((await app.endpoint('/live')).status).toBe(200);
    await app.scrapeText();
    await waitFor(() => (/\{"background":2\}/.test(app.stdout) ? true : undefined), 20_000, 'two background Redis ticks');
    backgroundTicksBeforeStop = (app.stdout.match(/\{"background":\d+\}/g) ?? []).length;

    app.child.kill('SIGTERM'); // the agent flushes every ended span, then the process exits
    await app.exit;
  });

  afterAll(() => stopAll(app, sink, downstream));

  const serverSpanOf = (traceId: string) => {
    const servers = sink.spans().filter((s) => s.kind === SERVER && s.traceId === traceId);
    expect(servers, describeSpans(sink.spans())).toHaveLength(1);
    return servers[0]!;
  };

  /** The pg and Redis spans of the request whose trace is `traceId`, checked to be children of its server span. */
  const childrenOf = (traceId: string) => {
    const server = serverSpanOf(traceId);
    const inTrace = sink.spans().filter((s) => s.traceId === traceId && s.spanId !== server.spanId);
    for (const span of inTrace) expect(span.parentSpanId, `${span.name} in ${describeSpans(inTrace)}`).toBe(server.spanId);
    return { server, pg: inTrace.filter(isPg), redis: inTrace.filter(isRedis), all: inTrace };
  };

  it("continues the caller's trace with a SERVER span carrying the stable HTTP attributes and no query string", () => {
    expect(answers.get('sampled')?.status).toBe(200);
    const server = serverSpanOf(sampled.traceId);
    expect(server.kind).toBe(SERVER);
    expect(server.parentSpanId).toBe(sampled.spanId);
    expect(server.name).toBe('GET');
    expect(server.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.path': '/db',
      'url.scheme': 'http',
      'server.address': '127.0.0.1',
      'client.address': '127.0.0.1',
      'network.protocol.version': '1.1',
    });
    expect(Number(server.attributes['http.response.status_code'])).toBe(200);
    expect(server.attributes['error.type']).toBeUndefined();
    expect(statusOf(sink, server.spanId)?.code ?? 0).not.toBe(STATUS_ERROR);
    expect(server.resource['service.name']).toBe('spans-fixture');
    // The token was in the request line; it must not be in anything exported.
    expect(sink.posts.length).toBeGreaterThan(0);
    for (const post of sink.posts) expect(post.body.toString('utf8')).not.toContain('secret-value');
  });

  it("makes the pg query and the Redis commands children of the request's server span", () => {
    const { pg, redis } = childrenOf(sampled.traceId);
    expect(pg).toHaveLength(1);
    expect(pg[0]!.kind).toBe(CLIENT);
    expect(pg[0]!.name).toBe('SELECT test');
    expect(pg[0]!.attributes).toMatchObject({
      'db.system.name': 'postgresql',
      'db.query.text': 'SELECT $1::int AS n',
      'db.namespace': 'test',
      'db.operation.name': 'SELECT',
      'server.address': '127.0.0.1',
    });
    expect(Number(pg[0]!.attributes['server.port'])).toBe(5432);
    expect(redis.map((s) => s.attributes['db.operation.name']).sort()).toEqual(['DEL', 'GET', 'SET']);
    for (const span of redis) {
      expect(span.kind).toBe(CLIENT);
      // Keys and values stay out of spans.
      expect(JSON.stringify(span.attributes)).not.toMatch(/spans-fixture|db:\d/);
    }
  });

  it('starts a new trace (a root SERVER span) for a request without traceparent, with its queries under it', () => {
    expect(answers.get('root')?.status).toBe(200);
    const servers = sink.spans().filter((s) => s.kind === SERVER && s.attributes['url.path'] === root.path);
    expect(servers).toHaveLength(1);
    expect(servers[0]!.parentSpanId).toBeUndefined();
    const { pg, redis } = childrenOf(servers[0]!.traceId);
    expect(pg).toHaveLength(1);
    expect(redis).toHaveLength(3);
  });

  it("keeps each query in its own request's trace when ten requests share a pool of one connection", () => {
    const waited = concurrent.map((_, i) => answers.get(`concurrent-${i}`));
    for (const answer of waited) expect(answer?.status, JSON.stringify(answer?.body)).toBe(200);
    // The fixture saw queries queue for the one connection: the case where a waiter is handed the
    // connection from inside another request.
    expect(Math.max(...waited.map((a) => Number(a?.body.waiting)))).toBeGreaterThan(0);
    for (const c of concurrent) {
      const { server, pg, redis } = childrenOf(c.traceId);
      expect(server.parentSpanId).toBe(c.spanId);
      expect(server.attributes['url.path']).toBe(c.path);
      expect(pg, `${c.path}: ${describeSpans(sink.spans().filter((s) => s.traceId === c.traceId))}`).toHaveLength(1);
      expect(redis.map((s) => s.attributes['db.operation.name']).sort()).toEqual(c.path.startsWith('/db') ? ['DEL', 'GET', 'SET'] : ['GET']);
    }
    // And no query span went astray into some other trace.
    const concurrentTraces = new Set(concurrent.map((c) => c.traceId));
    const pgInThese = sink.spans().filter((s) => isPg(s) && concurrentTraces.has(s.traceId));
    expect(pgInThese).toHaveLength(concurrent.length);
  });

  it("keeps a callback-style client.query (pool.connect callback) and a Redis command in its callback in the request's trace", () => {
    expect(answers.get('callback')?.status).toBe(200);
    expect(answers.get('callback')?.body.v).toMatch(/^cb-\d+$/);
    const { pg, redis } = childrenOf(callbackAlone.traceId);
    expect(pg).toHaveLength(1);
    expect(pg[0]!.attributes['db.query.text']).toBe('SELECT $1::text AS v');
    expect(redis.map((s) => s.attributes['db.operation.name'])).toEqual(['GET']);
  });

  it("keeps queries made from the request body's 'end' listener in the request's trace", () => {
    expect(answers.get('body')).toEqual({ status: 200, body: { body: 'hello body', value: null } });
    const { pg, redis } = childrenOf(posted.traceId);
    expect(pg.map((s) => s.attributes['db.query.text'])).toEqual(['SELECT $1::text AS body']);
    expect(redis.map((s) => s.attributes['db.operation.name'])).toEqual(['GET']);
  });

  it('marks a failing query ERROR with its SQLSTATE, and the 500 server span ERROR with error.type "500"', () => {
    expect(answers.get('fail')?.status).toBe(500);
    const { server, pg } = childrenOf(failing.traceId);
    expect(pg).toHaveLength(1);
    expect(pg[0]!.attributes['db.query.text']).toBe('SELECT * FROM no_such_table_xyz');
    expect(pg[0]!.attributes['db.response.status_code']).toBe('42P01');
    expect(statusOf(sink, pg[0]!.spanId)?.code).toBe(STATUS_ERROR);
    expect(Number(server.attributes['http.response.status_code'])).toBe(500);
    expect(server.attributes['error.type']).toBe('500');
    expect(statusOf(sink, server.spanId)?.code).toBe(STATUS_ERROR);
  });

  it('makes no span at all for a request whose caller did not sample it (traceparent flags 00)', () => {
    for (const u of unsampled) expect(answers.get(`unsampled ${u.path}`)?.status, u.path).toBe(200);
    const unsampledTraces = new Set(unsampled.map((u) => u.traceId));
    expect(sink.spans().filter((s) => unsampledTraces.has(s.traceId))).toEqual([]);
  });

  it('propagates the not-sampled decision on outgoing calls (same trace id, flags 00)', () => {
    const u = unsampled.find((x) => x.path === '/outgoing')!;
    const arrived = downstream.seen.filter((s) => s.traceparent?.split('-')[1] === u.traceId);
    expect(arrived, JSON.stringify(downstream.seen)).toHaveLength(1);
    expect(arrived[0]!.traceparent!.split('-')[3]).toBe('00');
  });

  it('sends traceparent with the incoming trace id on an outgoing http.get made in the handler', () => {
    expect(answers.get('outgoing')).toMatchObject({ status: 200, body: { downstream: 'downstream ok' } });
    const arrived = downstream.seen.filter((s) => s.traceparent?.split('-')[1] === outgoing.traceId);
    expect(arrived, JSON.stringify(downstream.seen)).toHaveLength(1);
    expect(arrived[0]!.path).toBe('/from-app');
    expect(arrived[0]!.traceparent!.split('-')[3]).toBe('01');
    // The hop: caller -> SERVER span -> CLIENT span (upstream http) -> the downstream's parent id.
    const { server, all } = childrenOf(outgoing.traceId);
    const client = all.find((s) => s.kind === CLIENT && !isPg(s) && !isRedis(s));
    expect(client, describeSpans(all)).toBeDefined();
    expect(client!.parentSpanId).toBe(server.spanId);
    expect(arrived[0]!.traceparent!.split('-')[2]).toBe(client!.spanId);
  });

  it('ends the server span of a request the client aborted with error.type "aborted"', () => {
    const server = serverSpanOf(aborted.traceId);
    expect(server.attributes['url.path']).toBe('/slow');
    expect(server.attributes['error.type']).toBe('aborted');
    expect(statusOf(sink, server.spanId)?.code).toBe(STATUS_ERROR);
    // The handler's late answer does not turn it into a 200.
    expect(server.attributes['http.response.status_code']).toBeUndefined();
  });

  it('makes no span for Redis commands outside any request (startup, timers)', () => {
    expect(backgroundTicksBeforeStop).toBeGreaterThanOrEqual(2);
    const spans = sink.spans();
    // The request-handling commands are traced; ECHO (startup) and INCR/EXPIRE (timer) are not.
    expect(spans.some(isRedis)).toBe(true);
    const operations = new Set(spans.filter(isRedis).map((s) => s.attributes['db.operation.name']));
    for (const background of ['ECHO', 'INCR', 'EXPIRE']) expect(operations.has(background), background).toBe(false);
    // Every trace exported is a request's: no CLIENT span without a SERVER span in its trace.
    const requestTraces = new Set(spans.filter((s) => s.kind === SERVER).map((s) => s.traceId));
    for (const span of spans) expect(requestTraces.has(span.traceId), describeSpans([span])).toBe(true);
  });

  it("makes no span for the agent's own endpoints: SERVER spans are exactly the app's sampled requests", () => {
    const servers = sink.spans().filter((s) => s.kind === SERVER);
    for (const server of servers) expect(String(server.attributes['url.path'])).not.toMatch(/^\/(metrics|health|live|ready)/);
    // No health-probe query or ping either.
    expect(sink.spans().filter((s) => s.attributes['db.query.text'] === 'SELECT 1' || s.attributes['db.operation.name'] === 'PING')).toEqual([]);
    // sampled + root + 10 concurrent + callback + fail + outgoing + aborted + body
    expect(servers, describeSpans(servers)).toHaveLength(1 + 1 + concurrent.length + 1 + 1 + 1 + 1 + 1);
  });
});

describe('OTEL_TRACES_SAMPLER=always_off', () => {
  const sink = new OtlpSink();
  let downstream: Awaited<ReturnType<typeof startDownstream>>;
  let app: AgentApp;
  const sent: Array<{ path: string; status: number }> = [];
  let metrics = '';

  beforeAll(async () => {
    downstream = await startDownstream();
    app = await startSpansApp(sink, downstream.url, { OTEL_SERVICE_NAME: 'spans-fixture-off', OTEL_TRACES_SAMPLER: 'always_off' });
    // A sampled caller too: always_off does not follow the parent's decision.
    for (const path of ['/db', '/callback', '/db', '/outgoing']) {
      const answer = await get(app, path, caller().header);
      sent.push({ path, status: answer.status });
    }
    metrics = await app.scrapeText();
    app.child.kill('SIGTERM');
    await app.exit;
  });

  afterAll(() => stopAll(app, sink, downstream));

  it('answers the requests and exports no spans', () => {
    expect(sent.map((s) => s.status)).toEqual([200, 200, 200, 200]);
    expect(downstream.seen).toHaveLength(1);
    // Tracing itself was on (exporter configured); the sampler is what said no.
    expect(app.agentLines.join('\n')).toMatch(/traces: otlp/);
    expect(sink.spans()).toEqual([]);
  });

  it('still counts the requests and queries on /metrics', () => {
    const samples = parsePrometheusText(metrics);
    expect(total(samples, 'http_requests_total', { service: 'spans-fixture-off' })).toBe(sent.length);
    expect(total(samples, 'http_requests_total', { route: '/db', status_code: '200' })).toBe(2);
    expect(total(samples, 'http_requests_total', { route: '/callback', status_code: '200' })).toBe(1);
    expect(total(samples, 'db_query_duration_seconds_count', { operation: 'SELECT', status: 'ok' })).toBe(3);
  });
});
