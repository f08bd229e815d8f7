/**
 * Errors in HTTP handlers reach Sentry from real apps preloaded with the agent and nothing but
 * SENTRY_DSN set: Express (a thrown error, a rejected async handler, a 503 without an error),
 * Fastify and plain http. Each event carries the stack trace, method, route, status, service,
 * release, environment, and the trace id of the request's span, which is checked two ways: it
 * is the trace id of the `traceparent` the request came with, and the spans Sentry received over
 * OTLP for that request carry it. Errors answered with a 4xx are not reported, and the agent
 * changes no response.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { waitFor } from '../helpers/ports';
import { select } from '../helpers/prometheus-text';
import { SentryIngest, type SentryEvent } from '../helpers/sentry-ingest';

function traceparent(): { header: string; traceId: string } {
  const traceId = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
  return { header: `00-${traceId}-${'ab'.repeat(8)}-01`, traceId };
}

function eventWith(ingest: SentryIngest, predicate: (event: SentryEvent) => boolean, what: string): Promise<SentryEvent> {
  return waitFor(() => ingest.events().find(predicate), 30_000, `a Sentry event: ${what}`);
}

const exceptionOf = (event: SentryEvent) => event.exception?.values?.[event.exception.values.length - 1];

describe('Express', () => {
  const ingest = new SentryIngest();
  let app: AgentApp;
  const thrown = traceparent();
  const rejected = traceparent();
  const unavailable = traceparent();

  beforeAll(async () => {
    const dsn = await ingest.start();
    app = await startAgentApp({
      fixture: 'sentry-express-app.cjs',
      env: {
        SENTRY_DSN: dsn,
        SENTRY_TRACES_SAMPLE_RATE: '1',
        OTEL_SERVICE_NAME: 'lessons-api',
        SENTRY_ENVIRONMENT: 'staging',
        SENTRY_RELEASE: 'lessons-api@2.3.4',
        NODE_ENV: 'production',
      },
    });
    await agentReady(app);
    expect((await app.request('/api/lessons/42/fail', { headers: { traceparent: thrown.header } })).status).toBe(500);
    expect((await app.request('/api/async-fail', { headers: { traceparent: rejected.header } })).status).toBe(500);
    expect((await app.request('/api/maintenance', { headers: { traceparent: unavailable.header } })).status).toBe(503);
    expect((await app.request('/api/bad-request')).status).toBe(400);
  });

  afterAll(async () => {
    await app?.stop();
    await ingest.stop();
  });

  it('reports a thrown error with its stack trace, request, service, release and environment', async () => {
    const event = await eventWith(ingest, (e) => exceptionOf(e)?.value === 'lesson 42 failed', 'lesson 42 failed');
    const exception = exceptionOf(event);
    expect(exception.type).toBe('Error');
    expect(exception.mechanism).toMatchObject({ type: 'auto.http.express', handled: false });
    const frames: Array<Record<string, any>> = exception.stacktrace.frames;
    const own = frames.filter((f) => String(f.filename).endsWith('sentry-express-app.cjs'));
    expect(own.length, JSON.stringify(frames.map((f) => f.filename))).toBeGreaterThan(0);
    expect(own.at(-1)).toMatchObject({ in_app: true, lineno: 12 });
    expect(own.at(-1)!.context_line).toContain('lesson ${req.params.id} failed');
    expect(frames.filter((f) => String(f.filename).includes('node_modules')).every((f) => f.in_app === false)).toBe(true);
    expect(event.level).toBe('error');
    expect(event.tags).toMatchObject({ 'http.method': 'GET', 'http.route': '/api/lessons/:id/fail', 'http.status_code': '500', service: 'lessons-api' });
    expect(event.contexts.response).toEqual({ status_code: 500 });
    expect(event.transaction).toBe('GET /api/lessons/:id/fail');
    expect(event.request).toMatchObject({ method: 'GET' });
    expect(event.request.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/lessons\/:id\/fail$/);
    expect(event.release).toBe('lessons-api@2.3.4');
    expect(event.environment).toBe('staging');
    expect(event.platform).toBe('node');
    expect(event.contexts.runtime).toMatchObject({ name: 'node' });
  });

  it("carries the trace id of the request's span, which Sentry also received over OTLP", async () => {
    const event = await eventWith(ingest, (e) => exceptionOf(e)?.value === 'lesson 42 failed', 'lesson 42 failed');
    expect(event.contexts.trace.trace_id).toBe(thrown.traceId);
    // The spans arrive after the batch delay; the span the error happened in is among them.
    const spans = await waitFor(
      () => {
        const inTrace = ingest.spans().filter((s) => s.traceId === thrown.traceId);
        return inTrace.some((s) => s.spanId === event.contexts.trace.span_id) ? inTrace : undefined;
      },
      30_000,
      "the request's spans at Sentry's OTLP endpoint",
    );
    const server = spans.find((s) => s.kind === 2);
    expect(server, JSON.stringify(spans.map((s) => s.name))).toBeDefined();
    expect(server!.parentSpanId).toBe('ab'.repeat(8));
    expect(server!.statusCode).toBe(2); // ERROR
    expect(server!.resource['service.name']).toBe('lessons-api');
  });

  it('reports a rejected async handler, and a 5xx answered without an error', async () => {
    const asyncEvent = await eventWith(ingest, (e) => exceptionOf(e)?.value === 'async handler failed', 'async handler failed');
    expect(exceptionOf(asyncEvent).type).toBe('TypeError');
    expect(asyncEvent.tags['http.route']).toBe('/api/async-fail');
    expect(asyncEvent.contexts.trace.trace_id).toBe(rejected.traceId);

    const message = await eventWith(ingest, (e) => e.tags?.['http.status_code'] === '503', 'the 503');
    expect(message.message).toBe('HTTP 503 on GET /api/maintenance');
    expect(message.tags['http.route']).toBe('/api/maintenance');
    expect(message.contexts.trace.trace_id).toBe(unavailable.traceId);
  });

  it('does not report an error the app answered with a 4xx', async () => {
    await eventWith(ingest, (e) => e.tags?.['http.status_code'] === '503', 'the 503');
    // (the fixture's source lines around other errors may mention it; no event is about it)
    expect(ingest.events().map((e) => exceptionOf(e)?.value ?? e.message)).not.toContain('bad input from client');
    expect(ingest.events().length).toBe(3);
    expect(ingest.events().every((e) => e.tags?.['http.status_code'] !== '400')).toBe(true);
  });

  it('counts nothing as dropped when Sentry answers', async () => {
    const samples = await app.scrape();
    expect(select(samples, 'otel_agent_sentry_events_dropped_total').reduce((n, s) => n + s.value, 0)).toBe(0);
  });
});

describe('the responses the app sends', () => {
  it('are the same with the agent reporting to Sentry as without the agent', async () => {
    const ingest = new SentryIngest();
    const dsn = await ingest.start();
    const paths = ['/api/lessons/7/fail', '/api/async-fail', '/api/bad-request', '/api/maintenance', '/ok'];
    const answers = async (app: AgentApp) => {
      const out: Array<{ status: number; type: string | null; body: string }> = [];
      for (const p of paths) {
        const r = await app.request(p);
        out.push({ status: r.status, type: r.headers.get('content-type'), body: await r.text() });
      }
      return out;
    };
    const bare = await startAgentApp({ fixture: 'sentry-express-app.cjs', preload: 'none', env: { NODE_ENV: 'production' } });
    const withAgent = await startAgentApp({
      fixture: 'sentry-express-app.cjs',
      env: { SENTRY_DSN: dsn, SENTRY_TRACES_SAMPLE_RATE: '1', NODE_ENV: 'production' },
    });
    try {
      const expected = await answers(bare);
      expect(expected.map((a) => a.status)).toEqual([500, 500, 400, 503, 200]);
      expect(await answers(withAgent)).toEqual(expected);
      await waitFor(() => (ingest.events().length >= 3 ? true : undefined), 30_000, 'the events');
    } finally {
      await bare.stop();
      await withAgent.stop();
      await ingest.stop();
    }
  });
});

describe('Fastify (ESM)', () => {
  it('reports an error thrown in a handler with the route template and the trace id', async () => {
    const ingest = new SentryIngest();
    const dsn = await ingest.start();
    const app = await startAgentApp({
      fixture: 'sentry-fastify-app.mjs',
      env: { SENTRY_DSN: dsn, SENTRY_TRACES_SAMPLE_RATE: '1', OTEL_SERVICE_NAME: 'courses' },
    });
    const tp = traceparent();
    try {
      const response = await app.request('/courses/9/fail', { headers: { traceparent: tp.header } });
      expect(response.status).toBe(500);
      expect(await response.json()).toMatchObject({ statusCode: 500, message: 'course 9 is out of range' });
      const event = await eventWith(ingest, (e) => exceptionOf(e)?.type === 'RangeError', 'the RangeError');
      expect(exceptionOf(event).mechanism).toMatchObject({ type: 'auto.http.fastify', handled: false });
      expect(event.tags).toMatchObject({ 'http.method': 'GET', 'http.route': '/courses/:courseId/fail', 'http.status_code': '500', service: 'courses' });
      expect(event.contexts.trace.trace_id).toBe(tp.traceId);
      const frames: Array<Record<string, any>> = exceptionOf(event).stacktrace.frames;
      expect(frames.some((f) => String(f.filename).endsWith('sentry-fastify-app.mjs') && f.in_app === true)).toBe(true);
    } finally {
      await app.stop();
      await ingest.stop();
    }
  });
});

describe('plain http', () => {
  it('reports a 5xx answered without an exception, with the request and its trace id', async () => {
    const ingest = new SentryIngest();
    const dsn = await ingest.start();
    const app = await startAgentApp({
      fixture: 'sentry-http-app.cjs',
      env: { SENTRY_DSN: dsn, SENTRY_TRACES_SAMPLE_RATE: '1', OTEL_SERVICE_NAME: 'plain' },
    });
    const tp = traceparent();
    try {
      expect((await app.request('/fail?token=abc', { headers: { traceparent: tp.header } })).status).toBe(500);
      const event = await eventWith(ingest, (e) => e.tags?.['http.status_code'] === '500', 'the 500');
      expect(event.message).toBe('HTTP 500 on GET /fail');
      expect(event.tags).toMatchObject({ 'http.method': 'GET', 'http.route': '/fail', service: 'plain' });
      expect(event.contexts.trace.trace_id).toBe(tp.traceId);
      expect(event.request.url).toMatch(/\/fail$/); // no query string
      expect(event.environment).toBe('production');
    } finally {
      await app.stop();
      await ingest.stop();
    }
  });
});
