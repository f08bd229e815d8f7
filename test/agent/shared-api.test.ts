/**
 * One OpenTelemetry API for the app and the agent: an app's own counter and histogram (made with
 * its own @opentelemetry/api, no SDK) are served on the agent's /metrics with the `service` label,
 * and its manual span joins the agent's trace as a child of the request's server span. Checked
 * with the oldest API the agent supports (1.3, the first with metrics) and the current one.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp } from '../helpers/agent-process';
import { OtlpSink } from '../helpers/otlp-sink';
import { waitFor } from '../helpers/ports';
import { select, total } from '../helpers/prometheus-text';

describe.each([
  ['the current API (1.10)', '@opentelemetry/api'],
  ['the oldest supported API (1.3)', 'otel-api-v1-3'],
])('an app using %s', (_label, apiPackage) => {
  const sink = new OtlpSink();
  afterAll(() => sink.stop());

  it('has its instruments on /metrics and its manual span in the request’s trace', async () => {
    const endpoint = await sink.start();
    const app = await startAgentApp({
      fixture: 'own-api-app.cjs',
      env: {
        OTEL_API_PACKAGE: apiPackage,
        OTEL_SERVICE_NAME: 'own-api',
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      },
    });
    try {
      await agentReady(app);
      for (let i = 0; i < 2; i++) expect((await app.request('/book')).status).toBe(200);
      const samples = await app.scrape();
      expect(total(samples, 'app_lessons_booked_total', { kind: 'trial', service: 'own-api' })).toBe(2);
      expect(total(samples, 'app_booking_size_count', { service: 'own-api' })).toBe(2);
      // The agent's own series are unchanged beside them.
      expect(select(samples, 'http_requests_total', { service: 'own-api', route: '/book' })).toHaveLength(1);

      app.child.kill('SIGTERM');
      await app.exit;
      const spans = await waitFor(() => (sink.spans().some((s) => s.name === 'book lesson') ? sink.spans() : undefined), 10_000, 'the app’s span');
      const manual = spans.filter((s) => s.name === 'book lesson');
      expect(manual).toHaveLength(2);
      for (const span of manual) {
        const parent = spans.find((s) => s.spanId === span.parentSpanId);
        expect(parent?.kind, 'the parent is the server span').toBe(2);
        expect(parent?.traceId).toBe(span.traceId);
        expect(span.attributes['lesson.kind']).toBe('trial');
        expect(span.resource['service.name']).toBe('own-api');
      }
    } finally {
      await app.stop();
    }
  });
});
