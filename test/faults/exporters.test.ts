/**
 * The trace Collector down, stalled (accepts, never answers) and answering 429/500: requests are
 * as fast as with a healthy Collector, the span queue stays capped, and what was lost is counted
 * on /metrics (the OpenTelemetry SDK's own metrics: otel_sdk_processor_span_processed_total,
 * otel_sdk_exporter_span_exported_total, with error_type on failures).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { OtlpSink, type SinkMode } from '../helpers/otlp-sink';
import { freePort, waitFor } from '../helpers/ports';
import { select, total, type Sample } from '../helpers/prometheus-text';

async function medianLatencyMs(app: AgentApp, requests: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < requests; i++) {
    const t0 = performance.now();
    const response = await app.request('/');
    await response.text();
    expect(response.status).toBe(200);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

async function burst(app: AgentApp, requests: number, concurrency = 20): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        next++;
        const response = await app.request('/');
        await response.text();
      }
    }),
  );
}

/** Spans counted with an error_type: dropped from the queue or failed to export. */
function failures(samples: Sample[], name: string): number {
  return select(samples, name)
    .filter((s) => s.labels.error_type)
    .reduce((n, s) => n + s.value, 0);
}

const sinks: OtlpSink[] = [];
afterAll(async () => {
  for (const sink of sinks) await sink.stop();
});

async function appWithCollector(mode: SinkMode | 'down'): Promise<{ app: AgentApp; sink?: OtlpSink }> {
  let endpoint: string;
  let sink: OtlpSink | undefined;
  if (mode === 'down') {
    endpoint = `http://127.0.0.1:${await freePort()}`;
  } else {
    sink = new OtlpSink();
    sink.mode = mode;
    sinks.push(sink);
    endpoint = await sink.start();
  }
  const app = await startAgentApp({
    fixture: 'plain-server.cjs',
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, TUTOR_OTEL_SHUTDOWN_TIMEOUT_MS: '2000' },
  });
  await agentReady(app);
  return { app, sink };
}

describe('trace Collector faults', () => {
  let baselineMs = 0;

  it('measures request latency with a healthy Collector', async () => {
    const { app } = await appWithCollector('ok');
    try {
      await medianLatencyMs(app, 20); // warm up
      baselineMs = await medianLatencyMs(app, 100);
      expect(baselineMs).toBeGreaterThan(0);
    } finally {
      await app.stop();
    }
  });

  for (const mode of ['down', 'stall', '429', '500'] as const) {
    it(`Collector ${mode}: latency unchanged, queue capped, failures counted, exit on SIGTERM`, async () => {
      const { app } = await appWithCollector(mode);
      try {
        const rssBefore = total(await app.scrape(), 'process_resident_memory_bytes');
        // More spans than the queue holds (2048), so a Collector that does not take them forces drops.
        await burst(app, 3000);
        const latency = await medianLatencyMs(app, 100);
        // "Unchanged within noise": generous, as the machine may be loaded by other work.
        expect(latency).toBeLessThan(Math.max(baselineMs * 5, baselineMs + 25));

        const samples = await waitFor(
          async () => {
            const parsed = await app.scrape();
            return failures(parsed, 'otel_sdk_exporter_span_exported_total') + failures(parsed, 'otel_sdk_processor_span_processed_total') > 0
              ? parsed
              : undefined;
          },
          30_000,
          `failures to be counted with the Collector ${mode}`,
        );
        expect(total(samples, 'otel_sdk_processor_span_queue_size')).toBeLessThanOrEqual(2048);
        expect(total(samples, 'otel_sdk_processor_span_queue_capacity')).toBe(2048);
        const rssAfter = total(samples, 'process_resident_memory_bytes');
        expect(rssAfter - rssBefore).toBeLessThan(80 * 1024 * 1024);

        app.child.kill('SIGTERM');
        expect(await waitFor(() => app.exited, 10_000, 'exit after SIGTERM')).toEqual({ code: null, signal: 'SIGTERM' });
      } finally {
        await app.stop();
      }
    });
  }
});
