/**
 * Nothing sensitive reaches Sentry. A real Express app gets requests with an Authorization
 * header and a cookie, connects to Postgres with a password in DATABASE_URL, runs SQL with a
 * string literal and a bind parameter, records an LLM prompt on a span, and throws an error
 * whose message carries the Authorization value and the DATABASE_URL. Every byte the local
 * ingest received (envelopes and OTLP posts, with their URLs and headers) is searched for each
 * secret. Spans go to a Collector at the same time, and the Collector's own credentials
 * (OTEL_EXPORTER_OTLP_HEADERS) never reach Sentry either.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { OtlpSink } from '../helpers/otlp-sink';
import { waitFor } from '../helpers/ports';
import { SentryIngest } from '../helpers/sentry-ingest';

const secret = (what: string) => `${what}${randomBytes(8).toString('hex')}`;

describe('scrubbing', () => {
  const ingest = new SentryIngest();
  const collector = new OtlpSink();
  let app: AgentApp;
  const s = {
    dbPassword: secret('dbpw'),
    bearer: secret('bearertoken'),
    cookie: secret('cookie'),
    literal: secret('literal'),
    param: secret('param'),
    prompt: secret('prompt'),
    queryPassword: secret('querypw'),
    collectorKey: secret('collectorkey'),
    custom: secret('EMP-'),
  };

  beforeAll(async () => {
    const dsn = await ingest.start();
    const collectorUrl = await collector.start();
    app = await startAgentApp({
      fixture: 'sentry-express-app.cjs',
      env: {
        SENTRY_DSN: dsn,
        SENTRY_TRACES_SAMPLE_RATE: '1',
        NODE_ENV: 'production',
        DATABASE_URL: `postgres://postgres:${s.dbPassword}@127.0.0.1:5432/test`,
        SQL_LITERAL: s.literal,
        SQL_PARAM: s.param,
        LLM_PROMPT: s.prompt,
        OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_HEADERS: `x-collector-key=${s.collectorKey}`,
        TUTOR_OTEL_SENTRY_SCRUB_PATTERN: 'EMP-[0-9a-f]{16}',
      },
    });
    await agentReady(app);
    const headers = { authorization: `Bearer ${s.bearer}`, cookie: `session=${s.cookie}` };
    expect((await app.request('/api/leaky', { headers })).status).toBe(500);
    expect((await app.request('/api/query', { headers })).status).toBe(200);
    expect((await app.request(`/api/lessons/${s.custom}/fail?password=${s.queryPassword}`, { headers })).status).toBe(500);
    await waitFor(() => (ingest.events().length >= 2 ? true : undefined), 30_000, 'the events');
    app.child.kill('SIGTERM'); // flushes the spans
    await app.exit;
  });

  afterAll(async () => {
    await app?.stop();
    await ingest.stop();
    await collector.stop();
  });

  it('sends the events and spans (so the searches below are not vacuous)', () => {
    const messages = ingest.events().map((e) => e.exception?.values?.at(-1)?.value);
    expect(messages.some((m) => typeof m === 'string' && m.startsWith('upstream refused'))).toBe(true);
    const names = ingest.spans().map((span) => span.name);
    expect(names).toContain('chat gpt-test');
    expect(ingest.spans().some((span) => span.attributes['db.system'] === 'postgresql' || span.attributes['db.system.name'] === 'postgresql')).toBe(true);
  });

  it('leaves no trace of any secret in anything Sentry received', () => {
    const everything = ingest.everythingReceived();
    expect(everything.length).toBeGreaterThan(1000);
    for (const [name, value] of Object.entries(s)) expect(everything.includes(value), `${name} was sent to Sentry`).toBe(false);
  });

  it('keeps what is useful around the secrets', () => {
    const leaky = ingest.events().find((e) => String(e.exception?.values?.at(-1)?.value).startsWith('upstream refused'));
    expect(leaky!.exception.values.at(-1).value).toBe(
      'upstream refused Bearer [Filtered] while using postgres://postgres:[Filtered]@127.0.0.1:5432/test',
    );
    expect(leaky!.request.headers).not.toHaveProperty('authorization');
    expect(leaky!.request.headers).not.toHaveProperty('cookie');
    const custom = ingest.events().find((e) => e.tags?.['http.route'] === '/api/lessons/:id/fail');
    expect(custom!.exception.values.at(-1).value).toBe('lesson [Filtered] failed');
    const query = ingest.spans().find((span) => String(span.attributes['db.query.text'] ?? span.attributes['db.statement']).includes('AS literal'));
    expect(String(query!.attributes['db.query.text'] ?? query!.attributes['db.statement'])).toBe("SELECT $1::text AS bound, '?' AS literal");
    const chat = ingest.spans().find((span) => span.name === 'chat gpt-test');
    expect(chat!.attributes['gen_ai.request.model']).toBe('gpt-test');
    expect(chat!.attributes['gen_ai.prompt']).toBe('[Filtered]');
    expect(chat!.events.map((e) => e.name)).not.toContain('gen_ai.user.message');
  });

  it('sends the same traces to the Collector at the same time', async () => {
    const spans = await waitFor(() => (collector.spans().length > 0 ? collector.spans() : undefined), 10_000, 'spans at the Collector');
    expect(spans.map((span) => span.name)).toContain('chat gpt-test');
    expect(collector.posts.length).toBeGreaterThan(0);
    const sentryTraceIds = new Set(ingest.spans().map((span) => span.traceId));
    expect(spans.some((span) => sentryTraceIds.has(span.traceId))).toBe(true);
  });
});
