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

/** `errors` failing requests (each a distinct error) in parallel with steady /ok requests. */
async function traffic(app: AgentApp, errors: number): Promise<{ failures: number[]; oks: number[] }> {
  const failing = Promise.all(Array.from({ length: errors }, (_, i) => timed(app, `/api/lessons/${i}/fail`)));
  const oks: number[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await timed(app, '/ok');
    expect(r.status).toBe(200);
    oks.push(r.ms);
  }
  const failures = await failing;
  expect(failures.every((f) => f.status === 500)).toBe(true);
  return { failures: failures.map((f) => f.ms), oks };
}

async function dropped(app: AgentApp, metric: string, reason: string): Promise<number> {
  return total(await app.scrape(), metric, { reason });
}

async function withIngest(mode: IngestMode, body: (app: AgentApp, ingest: SentryIngest) => Promise<void>): Promise<void> {
  const ingest = new SentryIngest();
  await ingest.start(mode);
  const app = await startAgentApp({ fixture: 'sentry-express-app.cjs', env: { SENTRY_DSN: ingest.dsn, NODE_ENV: 'production', TUTOR_OTEL_SHUTDOWN_TIMEOUT_MS: '2000' } });
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
      const { failures, oks } = await traffic(app, 40);
      expect(Math.max(...oks)).toBeLessThan(1_000);
      expect(Math.max(...failures)).toBeLessThan(2_000);
      await waitFor(async () => ((await dropped(app, 'otel_agent_sentry_events_dropped_total', 'network_error')) > 0 ? true : undefined), 20_000, 'events dropped for network_error');
      // Spans leave in batches every 5 s; the refused batch is counted.
      await waitFor(async () => ((await dropped(app, 'otel_agent_sentry_spans_dropped_total', 'network_error')) > 0 ? true : undefined), 20_000, 'spans dropped for network_error');
      await endsOnSigterm(app);
    });
  });
});

describe('Sentry stalled (accepts, never answers)', () => {
  it('costs the app no latency, caps the queue, and lets SIGTERM end the process within the deadline', async () => {
    await withIngest('stalled', async (app, ingest) => {
      const { failures, oks } = await traffic(app, 60);
      expect(Math.max(...oks)).toBeLessThan(1_000);
      expect(Math.max(...failures)).toBeLessThan(2_000);
      // 60 events against a buffer of 30 envelopes that never drains: the rest are dropped and counted.
      await waitFor(async () => ((await dropped(app, 'otel_agent_sentry_events_dropped_total', 'queue_overflow')) > 0 ? true : undefined), 20_000, 'events dropped for queue_overflow');
      // At most two sockets: the stalled server sees at most two envelope posts at a time.
      expect(ingest.posts.filter((p) => p.path === ENVELOPE_PATH).length).toBeLessThanOrEqual(2);
      // After the 5 s send timeout, the envelopes in flight count as network errors.
      await waitFor(async () => ((await dropped(app, 'otel_agent_sentry_events_dropped_total', 'network_error')) > 0 ? true : undefined), 20_000, 'events dropped for network_error');
      const after = await traffic(app, 5);
      expect(Math.max(...after.oks)).toBeLessThan(1_000);
      await endsOnSigterm(app);
    });
  });
});

describe('Sentry answering 429', () => {
  it('backs off: one envelope is refused, the next ones are not sent and are counted', async () => {
    await withIngest('rate-limited', async (app, ingest) => {
      expect((await timed(app, '/api/lessons/1/fail')).status).toBe(500);
      await waitFor(async () => ((await dropped(app, 'otel_agent_sentry_events_dropped_total', 'rate_limited')) === 1 ? true : undefined), 20_000, 'the 429 counted');
      for (let i = 2; i <= 5; i++) expect((await timed(app, `/api/lessons/${i}/fail`)).status).toBe(500);
      await waitFor(async () => ((await dropped(app, 'otel_agent_sentry_events_dropped_total', 'ratelimit_backoff')) === 4 ? true : undefined), 20_000, 'four events held back');
      expect(ingest.posts.filter((p) => p.path === ENVELOPE_PATH).length).toBe(1);
      await waitFor(async () => ((await dropped(app, 'otel_agent_sentry_spans_dropped_total', 'rate_limited')) > 0 ? true : undefined), 20_000, 'spans refused with 429 counted');
      await endsOnSigterm(app);
    });
  });
});
