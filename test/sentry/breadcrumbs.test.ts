/**
 * Breadcrumbs and the sampling default, from a real Express app preloaded with the agent and only
 * SENTRY_DSN set, against real Postgres, Redis and a loopback LLM: an error after two queries, a
 * Redis GET, an LLM call and a console warning carries those steps in order, with no SQL literal,
 * bind value, Redis key, prompt, API key or console secret in them; two concurrent requests each
 * get only their own; and no span is sent to Sentry when SENTRY_TRACES_SAMPLE_RATE is unset.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { LlmServer } from '../helpers/llm-server';
import { waitFor } from '../helpers/ports';
import { OTLP_PATH, SentryIngest, type SentryEvent } from '../helpers/sentry-ingest';

const SECRETS = {
  SQL_LITERAL: 'literal-c0ffee-1',
  SQL_PARAM: 'param-c0ffee-2',
  REDIS_KEY: 'key-c0ffee-3',
  LLM_PROMPT: 'prompt-c0ffee-4',
  LLM_API_KEY: 'sk-live-c0ffee-5',
  CONSOLE_SECRET: 'hunter2-c0ffee-6',
};

const exceptionOf = (event: SentryEvent) => event.exception?.values?.[event.exception.values.length - 1];
const eventFor = (ingest: SentryIngest, value: string) =>
  waitFor(() => ingest.events().find((e) => exceptionOf(e)?.value === value), 30_000, `the Sentry event "${value}"`);

describe('breadcrumbs', () => {
  const ingest = new SentryIngest();
  const llm = new LlmServer();
  let app: AgentApp;

  beforeAll(async () => {
    const dsn = await ingest.start();
    const llmUrl = await llm.start();
    app = await startAgentApp({
      fixture: 'sentry-breadcrumbs-app.cjs',
      env: { SENTRY_DSN: dsn, LLM_BASE_URL: `${llmUrl}/v1`, NODE_ENV: 'production', ...SECRETS },
    });
    await agentReady(app);
  });

  afterAll(async () => {
    await app?.stop();
    await ingest.stop();
    await llm.stop();
  });

  it('carry the request, its queries, Redis command, LLM call and console warning, in order', async () => {
    expect((await app.request('/lessons/7/report')).status).toBe(500);
    const event = await eventFor(ingest, 'report for lesson 7 failed');
    const crumbs: Array<Record<string, any>> = event.breadcrumbs ?? [];
    expect(crumbs.map((c) => c.category).filter((c) => c !== 'http')).toEqual(['http.server', 'db.query', 'db.query', 'cache', 'ai', 'console']);
    const timestamps = crumbs.map((c) => c.timestamp as number);
    expect(timestamps).toEqual([...timestamps].sort((a, b) => a - b));

    const [request, first, second, cache, ai, warning] = crumbs.filter((c) => c.category !== 'http');
    expect(request).toMatchObject({ message: 'GET /lessons/:id/report', data: { method: 'GET', route: '/lessons/:id/report' } });
    expect(first!.message).toBe('SELECT id, title FROM (SELECT ? AS id, ? AS title) lessons WHERE title <> $1');
    expect(first).toMatchObject({ level: 'info', data: { 'db.system': 'postgresql', 'db.operation': 'SELECT' } });
    expect(first!.data.error_code).toBeUndefined();
    expect(first!.data.duration_ms).toBeGreaterThan(0);
    expect(second!.message).toBe('SELECT count(*) FROM (SELECT $1::text AS learner) l');
    expect(cache).toMatchObject({ message: 'GET', data: { command: 'GET', result: 'miss' } });
    expect(ai!.data.provider).toMatch(/^openai/); // a loopback host: openai_compatible
    expect(ai!.data).toMatchObject({ model: 'gpt-4o-mini', input_tokens: 120, output_tokens: 30, status: 'success' });
    expect(ai!.data.duration_ms).toBeGreaterThan(0);
    expect(warning).toMatchObject({ level: 'warning' });
    expect(warning!.message).toBe('report for lesson 7 is slow, password=[Filtered]');

    // The LLM's HTTP call: host and path, no query, its status and duration.
    const call = crumbs.find((c) => c.category === 'http');
    expect(call!.data).toMatchObject({ method: 'POST', status_code: 200 });
    expect(call!.data.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions$/);
    expect(crumbs.indexOf(call!)).toBeGreaterThan(crumbs.indexOf(cache!));
    expect(crumbs.indexOf(call!)).toBeLessThan(crumbs.indexOf(warning!));
  });

  it('never carry a SQL literal, bind value, Redis key, prompt, API key or console secret', async () => {
    await eventFor(ingest, 'report for lesson 7 failed');
    const received = ingest.everythingReceived();
    for (const [name, secret] of Object.entries(SECRETS)) expect(received.includes(secret), name).toBe(false);
  });

  it('of two concurrent requests are each their own', async () => {
    const answers = await Promise.all([app.request('/concurrent/alpha'), app.request('/concurrent/beta')]);
    expect(answers.map((a) => a.status)).toEqual([500, 500]);
    for (const [tag, other] of [
      ['alpha', 'beta'],
      ['beta', 'alpha'],
    ]) {
      const event = await eventFor(ingest, `concurrent ${tag} failed`);
      const crumbs: Array<Record<string, any>> = event.breadcrumbs ?? [];
      expect(crumbs.map((c) => c.category)).toEqual(['http.server', 'db.query', 'db.query', 'db.query', 'cache']);
      expect(crumbs[0]!.message).toBe(`GET /concurrent/:tag`);
      for (const crumb of crumbs.slice(1, 4)) expect(crumb.message).toBe(`SELECT ? AS ${tag}_step`);
      expect(JSON.stringify(crumbs)).not.toContain(other);
      expect(crumbs[4]).toMatchObject({ message: 'EXISTS', data: { result: 'miss' } });
    }
  });

  it('come with no span to Sentry when only SENTRY_DSN is set', async () => {
    await eventFor(ingest, 'report for lesson 7 failed');
    expect(app.agentLines.join('\n')).toMatch(/traces: off/);
    // SIGTERM flushes whatever would be sent: still no span.
    app.child.kill('SIGTERM');
    await app.exit;
    expect(ingest.arrivals[OTLP_PATH]).toBeUndefined();
    expect(ingest.spans()).toEqual([]);
  });
});
