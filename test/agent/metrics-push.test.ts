/**
 * OTEL_METRICS_EXPORTER=otlp: the series /metrics serves, pushed to a loopback OTLP receiver
 * (decoded from OTLP/JSON; protobuf checked for its path and names), with the same names and
 * labels, `service` included; Prometheus and OTLP at once, OTLP alone (/metrics then answers
 * 404), and `none`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { OtlpSink } from '../helpers/otlp-sink';
import { waitFor } from '../helpers/ports';
import { total } from '../helpers/prometheus-text';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(env: Record<string, string>): Promise<{ app: AgentApp; sink: OtlpSink }> {
  const sink = new OtlpSink();
  const endpoint = await sink.start();
  cleanups.push(() => sink.stop());
  const app = await startAgentApp({ fixture: 'plain-server.cjs', env: { OTEL_SERVICE_NAME: 'pushed', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, ...env } });
  cleanups.push(() => app.stop());
  await agentReady(app);
  return { app, sink };
}

describe('metrics pushed over OTLP', () => {
  it('prometheus,otlp: http_requests_total arrives with its labels and the value /metrics shows', async () => {
    const { app, sink } = await setUp({
      OTEL_METRICS_EXPORTER: 'prometheus,otlp',
      OTEL_METRIC_EXPORT_INTERVAL: '200',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    for (let i = 0; i < 3; i++) expect((await app.request('/')).status).toBe(200);
    const scraped = total(await app.scrape(), 'http_requests_total', { service: 'pushed', route: '/', method: 'GET', status_code: '200' });
    expect(scraped).toBe(3);
    const point = await waitFor(
      () => sink.metricPoints().findLast((p) => p.name === 'http_requests_total' && p.value === 3),
      15_000,
      'http_requests_total = 3 pushed',
    );
    expect(point.attributes).toEqual({ method: 'GET', route: '/', status_code: '200', service: 'pushed' });
    expect(point.resource['service.name']).toBe('pushed');
    expect(point.resource['service.instance.id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(sink.posts.filter((p) => p.path === '/v1/metrics').length).toBeGreaterThan(0);
    // The latency histogram and the SDK-made runtime metrics travel too.
    const points = sink.metricPoints();
    expect(points.some((p) => p.name === 'http_request_duration_seconds' && p.count === 3 && p.attributes.service === 'pushed')).toBe(true);
    expect(points.some((p) => p.name.startsWith('nodejs_') || p.name.startsWith('process_'))).toBe(true);
    expect(app.agentLines.find((l) => l.includes('info:'))).toMatch(/metrics pushed: otlp http:\/\/127\.0\.0\.1:\d+\/v1\/metrics/);
  });

  it('otlp alone: protobuf to /v1/metrics by default, /metrics answers 404, /health still works', async () => {
    const { app, sink } = await setUp({ OTEL_METRICS_EXPORTER: 'otlp', OTEL_METRIC_EXPORT_INTERVAL: '200' });
    expect((await app.request('/')).status).toBe(200);
    const post = await waitFor(
      () => sink.posts.find((p) => p.path === '/v1/metrics' && p.body.includes('http_requests_total')),
      15_000,
      'a protobuf metrics post',
    );
    expect(post.contentType).toBe('application/x-protobuf');
    expect(post.body.includes('pushed')).toBe(true);
    expect((await fetch(`${app.metricsUrl}/metrics`)).status).toBe(404);
    expect((await app.endpoint('/health')).status).toBe(200);
    expect(app.agentLines.find((l) => l.includes('info:'))).toMatch(/pushed: \/health \/ready \/live on http/);
  });

  it('pushes what is left at SIGTERM, before the next interval', async () => {
    const { app, sink } = await setUp({ OTEL_METRICS_EXPORTER: 'otlp', OTEL_METRIC_EXPORT_INTERVAL: '600000', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    expect((await app.request('/')).status).toBe(200);
    app.child.kill('SIGTERM');
    await app.exit;
    expect(sink.metricPoints().some((p) => p.name === 'http_requests_total' && p.value === 1)).toBe(true);
  });

  it('none: nothing is pushed or served', async () => {
    const { app, sink } = await setUp({ OTEL_METRICS_EXPORTER: 'none', OTEL_METRIC_EXPORT_INTERVAL: '200' });
    expect((await app.request('/')).status).toBe(200);
    expect((await fetch(`${app.metricsUrl}/metrics`)).status).toBe(404);
    await new Promise((r) => setTimeout(r, 600));
    expect(sink.posts.filter((p) => p.path === '/v1/metrics')).toEqual([]);
  });
});
