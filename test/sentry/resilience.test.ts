/**
 * Sentry down (connection refused), stalled (accepts, reads, never answers) or answering 429:
 * the app's requests are answered as fast as ever, queues stay capped, what is dropped is
 * counted on /metrics, and SIGTERM still ends the process within the shutdown deadline.
 */
import { describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { waitFor } from '../helpers/ports';
import { total } from '../helpers/prometheus-text';
import { ENVELOPE_PATH, SentryIngest, type IngestMode } from '../helpers/sentry-ingest';

/** Status and duration of one request. */
async function timed(app: AgentApp, path: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const response = await app.request(path);
  await response.arrayBuffer();
  return { status: response.status, ms: performance.now() - started };
}

/** Milliseconds of `count` sequential /ok requests. */
async function oks(app: AgentApp, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const r = await timed(app, '/ok');
    expect(r.status).toBe(200);
    out.push(r.ms);
  }
  return out;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * Request latency while Sentry misbehaves, against the same process's latency before: /ok
 * requests alone, then /ok requests during a burst of `errors` failing requests (each a distinct
 * error). A design that waited for Sentry would add its 5 s send timeout (stalled) to requests;
 * the bounds are seconds, for a loaded machine.
 */
async function latencyUnchanged(app: AgentApp, errors: number, base = 0): Promise<void> {
  const before = await oks(app, 20);
  const failing = Promise.all(Array.from({ length: errors }, (_, i) => timed(app, `/api/lessons/${base + i}/fail`)));
  const during = await oks(app, 20);
  const failures = await failing;
  expect(failures.every((f) => f.status === 500)).toBe(true);
  expect(Math.max(...failures.map((f) => f.ms))).toBeLessThan(3_000);
  expect(Math.max(...during)).toBeLessThan(3_000);
  expect(median(during)).toBeLessThan(median(before) + 1_000);
  const after = await oks(app, 20);
  expect(median(after)).toBeLessThan(median(before) + 1_000);
}

async function dropped(app: AgentApp, metric: string, reason: string): Promise<number> {
  return total(await app.scrape(), metric, { reason });
}

async function withIngest(mode: IngestMode, body: (app: AgentApp, ingest: SentryIngest) => Promise<void>): Promise<void> {
  const ingest = new SentryIngest();
  await ingest.start(mode);
  const app = await startAgentApp({
    fixture: 'sentry-express-app.cjs',
    env: { SENTRY_DSN: ingest.dsn, SENTRY_TRACES_SAMPLE_RATE: '1', NODE_ENV: 'production', TUTOR_OTEL_SHUTDOWN_TIMEOUT_MS: '2000' },
  });
  try {
    await agentReady(app);
    await body(app, ingest);
  } finally {
    await app.stop();
    await ingest.stop();
  }
}

/** SIGTERM ends the process by the signal, with the 2 s flush deadline and a few seconds for a loaded machine. */
async function endsOnSigterm(app: AgentApp): Promise<void> {
  const started = Date.now();
  app.child.kill('SIGTERM');
  expect(await app.exit).toEqual({ code: null, signal: 'SIGTERM' });
  expect(Date.now() - started).toBeLessThan(6_000);
}

describe('Sentry down', () => {
  it('costs the app no latency, counts the lost events and spans, and lets SIGTERM end the process', async () => {
    await withIngest('down', async (app) => {
      // The first error loads the Sentry SDK (once, ~0.1 s): before the measurement.
      expect((await timed(app, '/api/lessons/first/fail')).status).toBe(500);
      await waitFor(
        async () => ((await dropped(app, 'otel_agent_sentry_events_dropped_total', 'network_error')) > 0 ? true : undefined),
        20_000,
        'the first event refused',
      );
      await latencyUnchanged(app, 40);
      await waitFor(
        async () => ((await dropped(app, 'otel_agent_sentry_events_dropped_total', 'network_error')) > 0 ? true : undefined),
        20_000,
        'events dropped for network_error',
      );
      // Spans leave in batches every 5 s; the refused batch is counted.
      await waitFor(
        async () => ((await dropped(app, 'otel_agent_sentry_spans_dropped_total', 'network_error')) > 0 ? true : undefined),
        20_000,
        'spans dropped for network_error',
      );
      await endsOnSigterm(app);
    });
  });
});

describe('Sentry stalled (accepts, never answers)', () => {
  it('costs the app no latency, caps the queue, and lets SIGTERM end the process within the deadline', async () => {
    await withIngest('stalled', async (app, ingest) => {
      expect((await timed(app, '/api/lessons/first/fail')).status).toBe(500);
      await waitFor(() => (ingest.posts.some((p) => p.path === ENVELOPE_PATH) ? true : undefined), 20_000, 'the first envelope, never answered');
      await latencyUnchanged(app, 60);
      // 61 events against a buffer of 30 envelopes that never drains: the rest are dropped and counted.
      await waitFor(
        async () => ((await dropped(app, 'otel_agent_sentry_events_dropped_total', 'queue_overflow')) > 0 ? true : undefined),
        20_000,
        'events dropped for queue_overflow',
      );
      // At most two sockets: the stalled server never holds more than two envelope posts at a time.
      expect(ingest.maxStalled[ENVELOPE_PATH]).toBeGreaterThan(0);
      expect(ingest.maxStalled[ENVELOPE_PATH]).toBeLessThanOrEqual(2);
      // After the 5 s send timeout, the envelopes in flight count as network errors.
      await waitFor(
        async () => ((await dropped(app, 'otel_agent_sentry_events_dropped_total', 'network_error')) > 0 ? true : undefined),
        20_000,
        'events dropped for network_error',
      );
      await latencyUnchanged(app, 5, 100);
      await endsOnSigterm(app);
    });
  });
});

describe('Sentry answering 429', () => {
  it('backs off: one envelope is refused, the next ones are not sent and are counted', async () => {
    await withIngest('rate-limited', async (app, ingest) => {
      expect((await timed(app, '/api/lessons/1/fail')).status).toBe(500);
      await waitFor(
        async () => ((await dropped(app, 'otel_agent_sentry_events_dropped_total', 'rate_limited')) === 1 ? true : undefined),
        20_000,
        'the 429 counted',
      );
      for (let i = 2; i <= 5; i++) expect((await timed(app, `/api/lessons/${i}/fail`)).status).toBe(500);
      await waitFor(
        async () => ((await dropped(app, 'otel_agent_sentry_events_dropped_total', 'ratelimit_backoff')) === 4 ? true : undefined),
        20_000,
        'four events held back',
      );
      expect(ingest.posts.filter((p) => p.path === ENVELOPE_PATH).length).toBe(1);
      await waitFor(
        async () => ((await dropped(app, 'otel_agent_sentry_spans_dropped_total', 'rate_limited')) > 0 ? true : undefined),
        20_000,
        'spans refused with 429 counted',
      );
      await endsOnSigterm(app);
    });
  });
});
