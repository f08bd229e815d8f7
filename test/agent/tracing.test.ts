/**
 * Traces over OTLP to a local receiver: spans for HTTP, Express, pg and ioredis in one trace,
 * none for the agent's own endpoints and probes, and none at all when nothing consumes them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { OtlpSink } from '../helpers/otlp-sink';
import { waitFor } from '../helpers/ports';

describe('traces over OTLP http/json', () => {
  const sink = new OtlpSink();
  let app: AgentApp;

  beforeAll(async () => {
    const endpoint = await sink.start();
    app = await startAgentApp({
      fixture: 'cjs-express-app.cjs',
      env: { OTEL_SERVICE_NAME: 'traced-express', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
    });
    await agentReady(app);
    expect((await app.endpoint('/health')).status).toBe(200);
    await app.scrapeText();
    expect((await app.request(`/api/lessons/${100 + (process.pid % 1000)}`)).status).toBe(200);
    app.child.kill('SIGTERM'); // flushes on the way out
    await app.exit;
  });

  afterAll(async () => {
    await app?.stop();
    await sink.stop();
  });

  it('posts to the endpoint with /v1/traces appended', () => {
    expect(sink.posts.length).toBeGreaterThan(0);
    expect(sink.posts.every((p) => p.path === '/v1/traces')).toBe(true);
  });

  it('links the server span, the pg query and the Redis commands in one trace', async () => {
    const spans = await waitFor(() => (sink.spans().length > 0 ? sink.spans() : undefined));
    const server = spans.find((s) => s.kind === 2 && s.attributes['http.route'] === '/api/lessons/:id');
    expect(server, JSON.stringify(spans.map((s) => s.name))).toBeDefined();
    const inTrace = spans.filter((s) => s.traceId === server!.traceId);
    // One span per query: the agent's own pg patch must not make upstream's wrap twice.
    expect(inTrace.filter((s) => s.attributes['db.system.name'] === 'postgresql' || s.attributes['db.system'] === 'postgresql')).toHaveLength(1);
    expect(inTrace.some((s) => s.attributes['db.system.name'] === 'redis' || s.attributes['db.system'] === 'redis')).toBe(true);
    expect(server!.resource['service.name']).toBe('traced-express');
  });

  it('makes no root spans for the Redis client handshake', () => {
    const roots = sink.spans().filter((s) => !s.parentSpanId);
    expect(roots.every((s) => s.kind === 2)).toBe(true);
  });

  it("does not trace the agent's own endpoints or health probes", () => {
    const spans = sink.spans();
    for (const span of spans) {
      expect(JSON.stringify(span.attributes)).not.toMatch(/\/metrics|\/health|SELECT 1\b/);
    }
  });
});

describe('traces with no consumer', () => {
  it('creates no tracer and says traces: off', async () => {
    const app = await startAgentApp({ fixture: 'plain-server.cjs' });
    try {
      await agentReady(app);
      expect(app.agentLines.find((l) => l.includes('info:'))).toMatch(/traces: off/);
    } finally {
      await app.stop();
    }
  });
});

describe('traces over OTLP http/protobuf (the default protocol)', () => {
  it('posts protobuf to the traces endpoint', async () => {
    const sink = new OtlpSink();
    const endpoint = await sink.start();
    const app = await startAgentApp({ fixture: 'plain-server.cjs', env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${endpoint}/custom/traces` } });
    try {
      await agentReady(app);
      expect((await app.request('/')).status).toBe(200);
      app.child.kill('SIGTERM');
      await app.exit;
      expect(sink.posts.length).toBeGreaterThan(0);
      expect(sink.posts[0]!.path).toBe('/custom/traces');
      expect(sink.posts[0]!.contentType).toBe('application/x-protobuf');
      expect(sink.posts[0]!.body.length).toBeGreaterThan(20);
    } finally {
      await app.stop();
      await sink.stop();
    }
  });
});

describe('Fastify handler spans (the agent’s own, from Fastify’s tracing channel)', () => {
  it('makes one handler span per request, a child of the server span, with the route and the thrown error', async () => {
    const sink = new OtlpSink();
    const endpoint = await sink.start();
    const app = await startAgentApp({
      fixture: 'fastify-app.mjs',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
    });
    try {
      await agentReady(app);
      expect((await app.request('/courses/3/lessons/4')).status).toBe(200);
      expect((await app.request('/boom')).status).toBe(500);
      app.child.kill('SIGTERM');
      await app.exit;
      const spans = sink.spans();
      for (const [route, status] of [
        ['/courses/:courseId/lessons/:lessonId', 200],
        ['/boom', 500],
      ] as const) {
        const server = spans.find((s) => s.kind === 2 && s.attributes['http.route'] === route);
        expect(server, JSON.stringify(spans.map((s) => s.name))).toBeDefined();
        expect(server!.attributes['http.response.status_code']).toBe(status);
        const handlers = spans.filter((s) => s.parentSpanId === server!.spanId && s.name === `request handler - ${route}`);
        expect(handlers).toHaveLength(1);
        expect(handlers[0]!.attributes['http.route']).toBe(route);
      }
      const boom = sink.rawSpans().find((s) => s.name === 'request handler - /boom');
      expect(boom?.status?.code).toBe(2);
      expect(JSON.stringify(boom?.events)).toContain('fastify handler threw');
    } finally {
      await app.stop();
      await sink.stop();
    }
  });
});
